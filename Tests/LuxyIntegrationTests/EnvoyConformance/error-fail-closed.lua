-- Envoy: a runtime error in the script is logged with its place; Envoy then continues the
-- request. Luxy differs on purpose: its default is fail-closed, 500 without calling the
-- upstream (docs/lua-api.md, "Errors and the sandbox").
--@status: 500
--@upstream-requests: 0
--@log: conformance boom
function envoy_on_request(request_handle)
  error("conformance boom")
end
