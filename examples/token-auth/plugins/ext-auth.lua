-- ext-auth: the authorization service itself, as a Luxy listener. Answers every request
-- with respond(): 200 when the authorization header is one of the configured tokens,
-- 401 otherwise. Requests never reach the listener's route.
local valid = {}
for _, token in ipairs(config.tokens or {}) do valid[token] = true end

function on_request(h)
  local token = h:headers():get("authorization")
  if token ~= nil and valid[token] then
    h:respond({[":status"] = "200"}, "ok\n")
  else
    h:respond({[":status"] = "401"}, "unauthorized\n")
  end
end
