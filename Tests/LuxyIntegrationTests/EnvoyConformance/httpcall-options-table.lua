-- Envoy: httpCall's fourth argument may be an options table ({timeout_ms, asynchronous,
-- return_duplicate_headers}); a synchronous call with it returns the response as the
-- numeric timeout form does. (Envoy Lua filter docs, "httpCall()" options)
--@upstream-header: x-call: 200|side
--@side-requests: 1
function envoy_on_request(request_handle)
  local headers = request_handle:httpCall("side", {
    [":method"] = "GET", [":path"] = "/x", [":authority"] = "side",
  }, nil, {timeout_ms = 5000, asynchronous = false, return_duplicate_headers = false})
  request_handle:headers():add("x-call", headers[":status"] .. "|" .. headers["x-upstream"])
end
