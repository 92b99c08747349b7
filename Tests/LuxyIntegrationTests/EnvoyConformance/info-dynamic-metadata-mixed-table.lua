-- Envoy: dynamicMetadata():set() refuses a table that mixes list and map keys (it has no
-- protobuf form). (lua common's protobuf conversion, "unexpected type"; wrappers.cc
-- DynamicMetadataMapWrapper::luaSet)
--@upstream-header: x-mixed-refused: true
function envoy_on_request(request_handle)
  local meta = request_handle:streamInfo():dynamicMetadata()
  local ok = pcall(meta.set, meta, "f", "k", {1, 2, name = "x"})
  request_handle:headers():add("x-mixed-refused", tostring(not ok))
end
