-- Envoy: metadata() reads the route's metadata and filterContext() the route's LuaPerRoute
-- filter_context. Luxy differs: metadata() is the route's metadata: map itself (Envoy: its
-- filter_metadata["envoy.filters.http.lua"]) and filter_context is the route's per_stage:
-- {STAGE: {config: …}} (docs/lua-api.md). (Envoy Lua filter docs, "metadata()",
-- "filterContext()")
--@request: GET /ctx/a
--@upstream-header: x-ctx: books|api|3
function envoy_on_request(request_handle)
  local context = request_handle:filterContext()
  request_handle:headers():add("x-ctx", request_handle:metadata():get("team") .. "|"
    .. context.audience .. "|" .. context.retries)
end
