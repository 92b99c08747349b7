-- Envoy: respond(headers, body) answers the request locally with that status, headers and
-- body; the upstream is never called. (Envoy Lua filter docs, "respond()")
--@status: 403
--@response-header: x-reason: denied
--@response-body: forbidden
--@upstream-requests: 0
function envoy_on_request(request_handle)
  request_handle:respond({[":status"] = "403", ["x-reason"] = "denied"}, "forbidden")
end
