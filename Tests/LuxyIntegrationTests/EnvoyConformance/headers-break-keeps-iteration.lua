-- Envoy: a pairs() loop left with break leaves its iterator set, so the map still refuses
-- changes until the phase ends, and a second pairs() raises "cannot create a second
-- iterator before completing the first". The response phase starts afresh. (wrappers.cc
-- HeaderMapWrapper::luaPairs, checkModifiable)
--@status: 200
--@response-header: x-locked: true|true
--@response-header: x-response-phase: free
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  for key in pairs(h) do break end
  local modify = not pcall(h.add, h, "x-a", "1")
  local ok, err = pcall(pairs, h)
  locked = tostring(modify) .. "|" .. tostring(not ok and err:find("cannot create a second iterator", 1, true) ~= nil)
end
function envoy_on_response(response_handle)
  response_handle:headers():add("x-locked", locked)
  response_handle:headers():add("x-response-phase", "free")
end
