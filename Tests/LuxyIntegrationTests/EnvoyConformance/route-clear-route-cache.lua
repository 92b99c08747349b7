-- Envoy: with clear_route_cache (default true) a script that changes :path makes the route
-- be chosen again: the request goes to the new route's cluster. (Envoy Lua filter docs,
-- "clearRouteCache()", and the filter's clear_route_cache)
--@request: GET /conformance
--@status: 200
--@upstream-requests: 0
--@side-requests: 1
--@response-header: x-upstream: side
function envoy_on_request(request_handle)
  request_handle:headers():replace(":path", "/rerouted/x")
end
