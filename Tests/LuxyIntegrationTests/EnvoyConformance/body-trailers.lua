-- Envoy: trailers() is nil when the message has none. (Envoy Lua filter docs, "trailers()")
--@request: POST /conformance
--@body: abc
--@upstream-header: x-trailers: nil
function envoy_on_request(request_handle)
  request_handle:headers():add("x-trailers", tostring(request_handle:trailers()))
end
