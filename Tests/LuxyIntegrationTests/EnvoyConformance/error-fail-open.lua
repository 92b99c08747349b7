-- Envoy: a runtime error in the script is logged and the request continues to the upstream
-- (lua_filter.cc: scriptError, then the filter continues). Luxy does this with
-- fail_open: true on the stage.
--@option: fail_open: true
--@status: 200
--@upstream-requests: 1
--@log: conformance boom
function envoy_on_request(request_handle)
  error("conformance boom")
end
