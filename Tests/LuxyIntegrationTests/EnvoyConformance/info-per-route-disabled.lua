-- Envoy: LuaPerRoute disabled: true skips the filter on that route. (Envoy Lua filter docs,
-- "Per-Route Configuration"; Luxy's per_stage: {STAGE: {disabled: true}})
--@request: GET /off/x
--@status: 200
--@upstream-header: x-ran:
function envoy_on_request(request_handle)
  request_handle:headers():add("x-ran", "yes")
end
