-- Envoy: httpCall headers may give a header several values as a table; the body argument is
-- sent with its content-length; a response without a body returns nil as the body.
-- (lua_filter.cc buildHeadersFromTable, luaHttpCall; Envoy Lua filter docs, "httpCall()")
--@upstream-header: x-call: 204|nil
--@side-requests: 1
--@side-header: x-multi: a,b
--@side-header: content-length: 7
--@side-body: payload
function envoy_on_request(request_handle)
  local headers, body = request_handle:httpCall("side", {
    [":method"] = "POST", [":path"] = "/status/204", [":authority"] = "side", ["x-multi"] = {"a", "b"},
  }, "payload", 1000)
  request_handle:headers():add("x-call", headers[":status"] .. "|" .. tostring(body))
end
