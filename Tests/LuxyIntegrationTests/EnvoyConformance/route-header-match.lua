-- Envoy: adding a header some route matches on, then clearRouteCache(), re-selects the
-- route. (Envoy Lua filter docs, "clearRouteCache()")
--@status: 200
--@upstream-requests: 0
--@side-requests: 1
--@side-header: x-route-to: side
function envoy_on_request(request_handle)
  request_handle:headers():add("x-route-to", "side")
  request_handle:clearRouteCache()
end
