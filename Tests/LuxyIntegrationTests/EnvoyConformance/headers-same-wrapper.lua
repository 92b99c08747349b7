-- Envoy: a stream handle keeps the header map and stream info wrappers it made, so each
-- headers(), requestHeaders() or streamInfo() call in a phase gives the same object
-- (StreamHandleWrapper's headers_wrapper_ and stream_info_wrapper_). The response phase's
-- handle has wrappers of its own, and the request phase's map is out of scope there.
--@status: 200
--@upstream-header: x-same-headers: true
--@upstream-header: x-same-info: true
--@response-header: x-same-response-headers: true
--@response-header: x-same-request-headers: true
--@response-header: x-kept-map: object used outside of proper scope
function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  headers:add("x-same-headers", tostring(rawequal(headers, request_handle:headers())))
  headers:add("x-same-info", tostring(rawequal(request_handle:streamInfo(), request_handle:streamInfo())))
  kept = headers
end
function envoy_on_response(response_handle)
  local headers = response_handle:headers()
  headers:add("x-same-response-headers",
    tostring(rawequal(headers, response_handle:headers()) and not rawequal(headers, kept)))
  local request = response_handle:requestHeaders()
  headers:add("x-same-request-headers", tostring(rawequal(request, response_handle:requestHeaders())))
  local _, err = pcall(function() return kept:get(":path") end)
  headers:add("x-kept-map", err:match("object used outside of proper scope"))
end
