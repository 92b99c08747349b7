-- Envoy: pseudo-headers :method, :path, :authority on requests and :status on responses are
-- in the header map. (Envoy Lua filter docs, "headers()")
--@request: POST /conformance/pseudo
--@body: x
--@upstream-header: x-seen: POST /conformance/pseudo localhost
--@response-header: x-status: 200
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  h:add("x-seen", h:get(":method") .. " " .. h:get(":path") .. " " .. h:get(":authority"))
end
function envoy_on_response(response_handle)
  response_handle:headers():add("x-status", response_handle:headers():get(":status"))
end
