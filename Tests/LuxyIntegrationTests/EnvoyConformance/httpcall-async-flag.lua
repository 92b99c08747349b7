-- Envoy: httpCall's asynchronous argument must be a boolean, else it raises "http call
-- asynchronous flag must be 'true', 'false', or empty"; a negative timeout raises "http call
-- timeout must be >= 0". (lua_filter.cc StreamHandleWrapper::luaHttpCall)
--@upstream-header: x-flag: http call asynchronous flag must be 'true', 'false', or empty
--@upstream-header: x-timeout: http call timeout must be >= 0
--@upstream-requests: 1
function envoy_on_request(request_handle)
  local headers = {[":method"] = "GET", [":path"] = "/", [":authority"] = "side"}
  local _, flag = pcall(request_handle.httpCall, request_handle, "side", headers, nil, 100, "yes")
  local _, timeout = pcall(request_handle.httpCall, request_handle, "side", headers, nil, -1)
  request_handle:headers():add("x-flag", flag:match("http call asynchronous.*$"))
  request_handle:headers():add("x-timeout", timeout:match("http call timeout.*$"))
end
