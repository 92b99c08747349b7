-- Envoy: envoy_on_response sees the upstream's response headers and changes what the client
-- receives. (Envoy Lua filter docs, "Script examples": response header manipulation)
--@status: 200
--@response-header: x-upstream-was: backend
--@response-header: x-upstream:
--@response-header: x-added: 1
function envoy_on_response(response_handle)
  local h = response_handle:headers()
  h:add("x-upstream-was", h:get("x-upstream"))
  h:remove("x-upstream")
  h:add("x-added", "1")
end
