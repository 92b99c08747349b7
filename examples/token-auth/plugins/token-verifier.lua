-- token-verifier (inbound): for the configured path prefixes, asks the ext-auth cluster
-- whether the request's token is good, and answers 401 (no token) or 403 (refused token)
-- itself when it is not. Other paths pass untouched.
local cluster = config.cluster or "ext-auth"
local timeout = config.timeout_ms or 1000
local paths = config.paths or {}

local function protected(path)
  for _, prefix in ipairs(paths) do
    if path:sub(1, #prefix) == prefix then return true end
  end
  return false
end

function on_request(h)
  local path = h:headers():get(":path")
  if not protected(path) then return end

  local token = h:headers():get("authorization")
  if token == nil then
    h:respond({[":status"] = "401", ["www-authenticate"] = "Bearer"}, "missing token\n")
    return
  end

  local headers, body = h:httpCall(cluster, {
    [":method"] = "GET",
    [":path"] = "/verify",
    [":authority"] = "ext-auth",
    ["authorization"] = token,
    ["x-original-path"] = path,
  }, "", timeout)

  local status = headers[":status"]
  if status == "200" then
    h:headers():add("x-auth-checked", "ext-auth")
    return
  end
  h:logWarn("token refused by " .. cluster .. " (" .. status .. ") for " .. path)
  if status == "401" then
    h:respond({[":status"] = "403"}, "token refused\n")
  else
    h:respond({[":status"] = "503"}, "auth service unavailable\n")
  end
end
