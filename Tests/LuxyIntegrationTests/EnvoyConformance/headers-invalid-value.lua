-- Envoy: Envoy's header map refuses a value with CR or LF (it would split the head).
-- Luxy differs in how: it raises a Lua error (a script error, so 500 with Luxy's fail-closed
-- default), where Envoy's HeaderString asserts the value valid. Documented in
-- docs/lua-api.md "Errors and the sandbox".
--@status: 200
--@upstream-header: x-refused: true
function envoy_on_request(request_handle)
  local ok = pcall(function() request_handle:headers():add("x-bad", "a\r\nx-injected: 1") end)
  request_handle:headers():add("x-refused", tostring(not ok))
end
