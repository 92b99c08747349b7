-- Envoy: getBytes() with a range outside the buffer raises "index/length must be >= 0 and
-- (index + length) must be <= buffer size". (wrappers.cc BufferWrapper::luaGetBytes)
--@request: POST /conformance
--@body: hello
--@upstream-header: x-error: index/length must be >= 0 and (index + length) must be <= buffer size
function envoy_on_request(request_handle)
  local ok, err = pcall(function() return request_handle:body():getBytes(3, 3) end)
  request_handle:headers():add("x-error", err:match("index/length.*$"))
end
