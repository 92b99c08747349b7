-- Envoy: logInfo() and the other log methods take a string; another argument raises Lua's
-- own "bad argument #1 to 'logInfo' (string expected, got nil)", naming the method as
-- called. (lua_filter.cc StreamHandleWrapper::luaLogInfo: luaL_checkstring)
--@upstream-header: x-error: bad argument #1 to 'logInfo' (string expected, got nil)
--@upstream-header: x-error-err: bad argument #1 to 'logErr' (string expected, got table)
function envoy_on_request(request_handle)
  local _, info = pcall(function() request_handle:logInfo(nil) end)
  local _, err = pcall(function() request_handle:logErr({}) end)
  request_handle:headers():add("x-error", info:match("bad argument.*$"))
  request_handle:headers():add("x-error-err", err:match("bad argument.*$"))
end
