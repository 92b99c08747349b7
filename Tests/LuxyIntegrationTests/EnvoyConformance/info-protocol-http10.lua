-- Envoy: streamInfo():protocol() is "HTTP/1.0" for an HTTP/1.0 request. (Envoy Lua filter
-- docs, "protocol()"; Http::Utility::getProtocolString)
--@raw: GET /conformance HTTP/1.0\r\nhost: localhost\r\n\r\n
--@status: 200
--@upstream-header: x-protocol: HTTP/1.0
function envoy_on_request(request_handle)
  request_handle:headers():add("x-protocol", request_handle:streamInfo():protocol())
end
