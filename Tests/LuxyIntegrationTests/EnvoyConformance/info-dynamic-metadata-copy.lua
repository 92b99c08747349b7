-- Envoy: dynamic metadata holds protobuf values, so get() returns a copy (changing it changes
-- nothing) and set() refuses a function ("unexpected type"). (wrappers.cc
-- DynamicMetadataMapWrapper::luaSet; lua common's protobuf conversion)
--@upstream-header: x-copy: kept|true
function envoy_on_request(request_handle)
  local meta = request_handle:streamInfo():dynamicMetadata()
  meta:set("f", "v", {name = "kept"})
  meta:get("f").v.name = "changed"
  local refused = not pcall(meta.set, meta, "f", "fn", function() end)
  request_handle:headers():add("x-copy", meta:get("f").v.name .. "|" .. tostring(refused))
end
