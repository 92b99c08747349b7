-- Envoy: httpCall with asynchronous = true returns at once without a response; the call
-- still goes out. (Envoy Lua filter docs, "httpCall()": asynchronous)
--@status: 200
--@upstream-header: x-returned: nil
--@side-requests: 1
function envoy_on_request(request_handle)
  local headers = request_handle:httpCall("side", {
    [":method"] = "GET", [":path"] = "/delay/200", [":authority"] = "side",
  }, nil, 5000, true)
  request_handle:headers():add("x-returned", tostring(headers))
end
