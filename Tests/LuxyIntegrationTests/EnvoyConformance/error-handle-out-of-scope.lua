-- Envoy: a handle kept past the phase it was given to raises "object used outside of proper
-- scope" when used. (Envoy Lua filter docs, "Stream handle API": handles are only valid in
-- their coroutine; lua common's LuaDeathRef/checkAlive)
--@status: 200
--@response-header: x-old-handle: object used outside of proper scope
function envoy_on_request(request_handle)
  kept = request_handle
end
function envoy_on_response(response_handle)
  local _, err = pcall(function() return kept:headers():get(":path") end)
  response_handle:headers():add("x-old-handle", err:match("object used outside of proper scope"))
end
