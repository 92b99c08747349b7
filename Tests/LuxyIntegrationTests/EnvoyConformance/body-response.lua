-- Envoy: envoy_on_response can read and replace the response body. (Envoy Lua filter docs,
-- "Script examples": response body)
--@status: 200
--@response-body: replaced: GET /conformance
function envoy_on_response(response_handle)
  local body = response_handle:body()
  local first = body:getBytes(0, body:length()):match("^[^\n]*")
  body:setBytes("replaced: " .. first)
end
