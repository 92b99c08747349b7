-- Envoy: body() of a message without a body is nil; body(true) gives an empty buffer that
-- setBytes() can fill. (Envoy Lua filter docs, "body()": always_wrap_body)
--@request: GET /conformance
--@upstream-header: x-no-body: nil|0
--@upstream-body: added
function envoy_on_request(request_handle)
  local plain = request_handle:body()
  local wrapped = request_handle:body(true)
  request_handle:headers():add("x-no-body", tostring(plain) .. "|" .. wrapped:length())
  wrapped:setBytes("added")
end
