-- Envoy: setBytes() on the response body sets content-length to the new length. (Envoy Lua
-- filter docs, "setBytes()"; wrappers.cc BufferWrapper::luaSetBytes)
--@status: 200
--@response-header: content-length: 7
--@response-body: changed
function envoy_on_response(response_handle)
  response_handle:body():setBytes("changed")
end
