-- Envoy: respond() whose :status is missing or outside 200-599 raises ":status must be
-- between 200-599". (lua_filter.cc StreamHandleWrapper::luaRespond; lua_filter_test.cc
-- RespondBadStatus)
--@upstream-header: x-error: :status must be between 200-599
function envoy_on_request(request_handle)
  local _, err = pcall(request_handle.respond, request_handle, {["x-a"] = "1"}, "x")
  request_handle:headers():add("x-error", err:match(":status must.*$"))
end
