-- canary-cookie: puts a share of users on the canary, and keeps each user where they were
-- put with a cookie. `x-canary: 1` on the request is what the canary route matches.
--   config.percent: share of new users sent to the canary (0-100)
--   config.cookie:  the cookie's name (default "canary")
local percent = config.percent or 0
local cookie = config.cookie or "canary"

local function cookie_value(header)
  for pair in (header or ""):gmatch("[^;]+") do
    local name, value = pair:match("^%s*([^=]+)=(.*)$")
    if name == cookie then return value end
  end
end

function on_request(h)
  local headers = h:headers()
  local choice = cookie_value(headers:get("cookie"))
  local fresh = choice == nil
  if fresh then choice = math.random(1, 100) <= percent and "1" or "0" end
  headers:remove("x-canary")
  if choice == "1" then headers:add("x-canary", "1") end
  h:streamInfo():dynamicMetadata():set("canary", "choice", { value = choice, fresh = fresh })
end

function on_response(h)
  local choice = h:streamInfo():dynamicMetadata():get("canary").choice
  if choice.fresh then
    h:headers():add("set-cookie", cookie .. "=" .. choice.value .. "; Path=/; Max-Age=86400")
  end
end
