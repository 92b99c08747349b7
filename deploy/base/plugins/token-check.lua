-- token-check: requests under config.paths must carry `authorization: Bearer <config.token>`.
-- The token comes from a Kubernetes Secret through `!file`; rotating the Secret reloads.
local token = config.token
local paths = config.paths or {}

local function protected(path)
  for _, prefix in ipairs(paths) do
    if path:sub(1, #prefix) == prefix then return true end
  end
  return false
end

function envoy_on_request(h)
  local path = h:headers():get(":path") or "/"
  if protected(path) and h:headers():get("authorization") ~= "Bearer " .. token then
    h:respond({[":status"] = "401", ["www-authenticate"] = "Bearer"}, "unauthorized\n")
  end
end
