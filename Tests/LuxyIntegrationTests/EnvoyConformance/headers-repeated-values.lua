-- Envoy: a header with several values: getNumValues() counts them, getAtIndex(name, i) is
-- 0-based and nil past the end, get() joins them with ",". (Envoy Lua filter docs,
-- "getAtIndex", "getNumValues"; wrappers.cc)
--@header: x-multi: a
--@header: x-multi: b
--@upstream-header: x-result: 2|a|b|nil|a,b
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  h:add("x-result", table.concat({h:getNumValues("x-multi"), h:getAtIndex("x-multi", 0),
    h:getAtIndex("x-multi", 1), tostring(h:getAtIndex("x-multi", 2)), h:get("x-multi")}, "|"))
end
