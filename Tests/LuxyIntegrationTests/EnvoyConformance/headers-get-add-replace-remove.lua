-- Envoy: headers() get/add/replace/remove on the request map change what the upstream
-- receives; get() of a missing header is nil. (Envoy Lua filter docs, "Header object API";
-- wrappers.cc HeaderMapWrapper::luaGet/luaAdd/luaReplace/luaRemove)
--@header: x-drop: 1
--@header: x-swap: old
--@status: 200
--@upstream-header: x-added: yes
--@upstream-header: x-swap: new
--@upstream-header: x-drop:
--@upstream-header: x-missing-was-nil: true
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  h:add("x-added", "yes")
  h:replace("x-swap", "new")
  h:remove("x-drop")
  h:add("x-missing-was-nil", tostring(h:get("x-none") == nil))
end
