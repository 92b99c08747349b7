-- token-check: requests whose path starts with config.path_prefix must carry
-- `authorization: Bearer <config.token>`; others pass. The token comes from a Kubernetes
-- Secret through `!file`, so rotating the Secret reloads every pod with the new one.
local token = config.token
local prefix = config.path_prefix or "/"

function envoy_on_request(h)
  local path = h:headers():get(":path") or "/"
  if path:sub(1, #prefix) ~= prefix then return end
  if h:headers():get("authorization") ~= "Bearer " .. token then
    h:respond({[":status"] = "401", ["www-authenticate"] = "Bearer"}, "unauthorized\n")
  end
end
