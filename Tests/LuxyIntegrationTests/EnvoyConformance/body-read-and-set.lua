-- Envoy: body() buffers the request body; length(), getBytes(start, length) (0-based) read
-- it and setBytes() replaces it, with content-length following. (Envoy Lua filter docs,
-- "Buffer API"; wrappers.cc BufferWrapper)
--@request: POST /conformance
--@body: hello world
--@upstream-body: HELLO WORLD!
--@upstream-header: content-length: 12
--@upstream-header: x-read: 11|world
function envoy_on_request(request_handle)
  local body = request_handle:body()
  request_handle:headers():add("x-read", body:length() .. "|" .. body:getBytes(6, 5))
  body:setBytes(string.upper(body:getBytes(0, body:length())) .. "!")
end
