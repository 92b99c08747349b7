-- Envoy: filterContext() on a route without per-route filter_context is an empty table, and
-- metadata():get() of a missing key is nil. (Envoy Lua filter docs, "filterContext()",
-- "Metadata object API")
--@upstream-header: x-empty: table|nil|nil
function envoy_on_request(request_handle)
  local context = request_handle:filterContext()
  request_handle:headers():add("x-empty", type(context) .. "|" .. tostring(next(context)) .. "|"
    .. tostring(request_handle:metadata():get("team")))
end
