-- Envoy: streamInfo():protocol() is "HTTP/1.1" for an HTTP/1.1 request; the downstream
-- addresses are ip:port of the connection's two ends. (Envoy Lua filter docs, "Stream info
-- object API"; wrappers.cc StreamInfoWrapper)
--@upstream-header: x-protocol: HTTP/1.1
--@upstream-header: x-local-ok: true
--@upstream-header: x-remote-ok: true
function envoy_on_request(request_handle)
  local info = request_handle:streamInfo()
  local h = request_handle:headers()
  h:add("x-protocol", info:protocol())
  h:add("x-local-ok", tostring(info:downstreamLocalAddress():match("^127%.0%.0%.1:%d+$") ~= nil))
  h:add("x-remote-ok", tostring(info:downstreamDirectRemoteAddress():match("^127%.0%.0%.1:%d+$") ~= nil))
end
