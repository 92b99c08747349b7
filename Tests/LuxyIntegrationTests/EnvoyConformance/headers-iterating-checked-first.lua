-- Envoy: checkModifiable looks at an open pairs() iteration before whether the headers went
-- on: after a broken-off loop and once the body streamed (headers continued), add() raises
-- "header map cannot be modified while iterating"; without the open loop it is "header map
-- can no longer be modified". (wrappers.cc HeaderMapWrapper::checkModifiable)
--@request: POST /conformance
--@body: abc
--@status: 200
--@log: first: header map cannot be modified while iterating
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  for key in pairs(h) do break end
  for chunk in request_handle:bodyChunks() do end
  local _, err = pcall(h.add, h, "x-late", "1")
  request_handle:logInfo("first: " .. err:match("header map.*$"))
end
