-- Envoy: respond() in envoy_on_response raises "respond not currently supported in the
-- response path". (lua_filter.cc StreamHandleWrapper::luaRespond)
--@status: 200
--@response-header: x-error: respond not currently supported in the response path
function envoy_on_response(response_handle)
  local ok, err = pcall(response_handle.respond, response_handle, {[":status"] = "200"}, "x")
  response_handle:headers():add("x-error", err:match("respond not.*$"))
end
