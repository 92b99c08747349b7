-- Envoy: header names are case-insensitive (get("X-MIXED-CASE") finds x-mixed-case), add()
-- twice gives two values, replace() of an absent header adds it, and replacing :status in
-- envoy_on_response changes the status the client gets. (wrappers.cc HeaderMapWrapper:
-- LowerCaseString keys, setCopy; Envoy Lua filter docs, "replace()")
--@header: X-Mixed-Case: m
--@status: 404
--@upstream-header: x-found: m
--@upstream-header: x-twice: a,b
--@upstream-header: x-replaced-new: n
--@response-header: x-status: 404
function envoy_on_request(request_handle)
  local h = request_handle:headers()
  h:add("x-found", h:get("X-MIXED-CASE"))
  h:add("x-twice", "a")
  h:add("x-twice", "b")
  h:replace("x-replaced-new", "n")
end
function envoy_on_response(response_handle)
  response_handle:headers():replace(":status", "404")
  response_handle:headers():add("x-status", response_handle:headers():get(":status"))
end
