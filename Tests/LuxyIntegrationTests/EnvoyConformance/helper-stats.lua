-- Envoy: each run of a filter phase counts in <stat_prefix>.lua.executions and each script
-- error in <stat_prefix>.lua.errors. (Envoy Lua filter docs, "Statistics")
--@option: stat_prefix: conformance.edge
--@option: fail_open: true
--@status: 200
--@stat: conformance.edge.lua.executions: 2
--@stat: conformance.edge.lua.errors: 1
function envoy_on_request(request_handle)
end
function envoy_on_response(response_handle)
  error("counted")
end
