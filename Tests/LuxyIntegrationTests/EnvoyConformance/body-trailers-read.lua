-- Envoy: trailers() waits for the end of the message and returns its trailer map, read with
-- get(); the headers can still change, since the filter held them while it waited. (Envoy
-- Lua filter docs, "trailers()"; lua_filter_test.cc RequestTrailers)
--@raw: POST /conformance HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-trailer: t1\r\n\r\n
--@status: 200
--@upstream-header: x-from-trailer: t1|1
--@upstream-body: abc
function envoy_on_request(request_handle)
  local trailers = request_handle:trailers()
  request_handle:headers():add("x-from-trailer", trailers:get("x-trailer") .. "|" .. trailers:getNumValues("x-trailer"))
end
