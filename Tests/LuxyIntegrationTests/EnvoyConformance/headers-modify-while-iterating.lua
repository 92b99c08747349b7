-- Envoy: changing the header map inside a pairs() loop raises "header map cannot be modified
-- while iterating"; after the loop ends it can change again. (wrappers.cc
-- HeaderMapWrapper::checkModifiable; lua_filter wrappers_test.cc ModifyDuringIteration,
-- ModifyAfterIteration)
--@status: 200
--@upstream-header: x-during: header map cannot be modified while iterating
--@upstream-header: x-after: ok
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  local message
  for key, value in pairs(h) do
    local ok, err = pcall(h.add, h, "x-during", "1")
    if not ok then message = err end
  end
  h:add("x-during", message:match("header map cannot be modified while iterating"))
  h:add("x-after", "ok")
end
