-- Envoy: routeName() is the matched route's name, requestedServerName() "" without TLS,
-- connection():ssl() nil on a plain connection. (Envoy Lua filter docs, "routeName()",
-- "requestedServerName()", "Connection object API: ssl()")
--@request: GET /ctx/x
--@upstream-header: x-info: ctx||true
function envoy_on_request(request_handle)
  local info = request_handle:streamInfo()
  request_handle:headers():add("x-info", info:routeName() .. "|" .. info:requestedServerName() .. "|"
    .. tostring(request_handle:connection():ssl() == nil))
end
