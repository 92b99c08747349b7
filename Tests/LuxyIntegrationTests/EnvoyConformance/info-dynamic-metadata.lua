-- Envoy: dynamicMetadata() set(filter, key, value) in the request phase is seen by get(filter)
-- and pairs in the response phase of the same request. (Envoy Lua filter docs, "Dynamic
-- metadata object API")
--@status: 200
--@response-header: x-meta: user-1|2|envoy.filters.http.lua
function envoy_on_request(request_handle)
  local meta = request_handle:streamInfo():dynamicMetadata()
  meta:set("envoy.filters.http.lua", "user", "user-1")
  meta:set("envoy.filters.http.lua", "roles", {"a", "b"})
end
function envoy_on_response(response_handle)
  local meta = response_handle:streamInfo():dynamicMetadata()
  local mine = meta:get("envoy.filters.http.lua")
  local names = {}
  for filter in pairs(meta) do names[#names + 1] = filter end
  response_handle:headers():add("x-meta", mine.user .. "|" .. #mine.roles .. "|" .. table.concat(names, ","))
end
