-- Envoy: httpCall(cluster, headers, body, timeout) sends the request to the cluster and
-- returns its headers (with :status) and body. (Envoy Lua filter docs, "httpCall()")
--@upstream-header: x-call-status: 200
--@upstream-header: x-call-first-line: POST /auth
--@side-requests: 1
--@side-header: x-from-lua: 1
--@side-body: payload
function envoy_on_request(request_handle)
  local headers, body = request_handle:httpCall("side", {
    [":method"] = "POST", [":path"] = "/auth", [":authority"] = "side", ["x-from-lua"] = "1",
  }, "payload", 5000)
  request_handle:headers():add("x-call-status", headers[":status"])
  request_handle:headers():add("x-call-first-line", body:match("^[^\n]*"))
end
