-- header-routing: sends requests to another backend by a header. The route in luxy.yaml
-- matches `x-backend`; this plugin decides its value from the client's `x-api-version`
-- (config.versions maps a version to a backend), and the route is chosen again because a
-- header a route matches on changed (clear_route_cache, on by default).
local versions = config.versions or {}

function on_request(h)
  local headers = h:headers()
  headers:remove("x-backend")            -- never trust the client's own
  local backend = versions[headers:get("x-api-version") or ""]
  if backend then
    headers:add("x-backend", backend)
    h:clearRouteCache()                  -- explicit, for stages with clear_route_cache: false
  end
end
