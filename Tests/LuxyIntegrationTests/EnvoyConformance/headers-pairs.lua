-- Envoy: pairs(headers()) iterates every header, one pair per value, pseudo-headers
-- included. (Envoy Lua filter docs, "Header object API: __pairs"; wrappers.cc HeaderMapIterator)
--@header: x-multi: a
--@header: x-multi: b
--@upstream-header: x-pairs: :method=GET x-multi=a x-multi=b
function envoy_on_request(request_handle)
  local seen = {}
  for key, value in pairs(request_handle:headers()) do
    if key == ":method" or key == "x-multi" then seen[#seen + 1] = key .. "=" .. value end
  end
  request_handle:headers():add("x-pairs", table.concat(seen, " "))
end
