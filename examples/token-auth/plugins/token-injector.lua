-- token-injector (outbound): adds this service's access token to every request it makes,
-- unless the request already carries one.
local header = config.header or "authorization"
local token = assert(config.token, "token-injector: config.token is required")

function on_request(h)
  local headers = h:headers()
  if headers:get(header) == nil then
    headers:add(header, token)
  end
end
