-- Envoy: httpCall to a cluster that does not exist raises "http call cluster invalid. Must
-- be configured"; headers without :method/:path/:authority raise too. (lua_filter.cc
-- StreamHandleWrapper::luaHttpCall)
--@upstream-header: x-unknown: http call cluster invalid. Must be configured
--@upstream-header: x-pseudo: http call headers must include ':path', ':method', and ':authority'
function envoy_on_request(request_handle)
  local _, unknown = pcall(request_handle.httpCall, request_handle, "nope",
    {[":method"] = "GET", [":path"] = "/", [":authority"] = "x"}, nil, 100)
  local _, pseudo = pcall(request_handle.httpCall, request_handle, "side", {[":path"] = "/"}, nil, 100)
  request_handle:headers():add("x-unknown", unknown:match("http call cluster.*$"))
  request_handle:headers():add("x-pseudo", pseudo:match("http call headers.*$"))
end
