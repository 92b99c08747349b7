-- Envoy: a call the cluster cannot complete (connection refused) returns a 503 response to
-- the script, not an error; the local reply's body has no trailing newline. (lua_filter.cc
-- onFailure: ":status" 503 with the reason as body)
--@status: 200
--@upstream-header: x-call-status: 503
--@upstream-header: x-body-one-line: true
function envoy_on_request(request_handle)
  local headers, body = request_handle:httpCall("dead", {
    [":method"] = "GET", [":path"] = "/", [":authority"] = "dead",
  }, nil, 2000)
  request_handle:headers():add("x-call-status", headers[":status"])
  request_handle:headers():add("x-body-one-line", tostring(body ~= nil and not body:find("\n")))
end
