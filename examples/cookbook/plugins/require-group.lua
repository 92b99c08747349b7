-- require-group: runs after jwt-auth and lets through only users in config.group. jwt-auth
-- verified the token and copied its `groups` claim into x-groups (a JSON list), after
-- removing any x-groups the client sent, so the header can be trusted here.
local cjson = require("cjson.safe")
local group = assert(config.group, "require-group: config.group is not set")

function on_request(h)
  local groups = cjson.decode(h:headers():get("x-groups") or "") or {}
  for _, name in ipairs(type(groups) == "table" and groups or { groups }) do
    if name == group then return end
  end
  h:respond({ [":status"] = "403" }, "forbidden: not in group " .. group .. "\n")
end
