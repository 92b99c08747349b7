-- Envoy: with clear_route_cache: false a changed :path keeps the route chosen before the
-- filter ran. (Envoy Lua filter config, clear_route_cache)
--@option: clear_route_cache: false
--@status: 200
--@upstream-requests: 1
--@upstream-header: x-upstream-path-changed: yes
function envoy_on_request(request_handle)
  request_handle:headers():replace(":path", "/rerouted/x")
  request_handle:headers():add("x-upstream-path-changed", "yes")
end
