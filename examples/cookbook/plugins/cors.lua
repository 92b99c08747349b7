-- cors: answers CORS preflight requests itself and adds the CORS headers to responses, for
-- the origins in config.origins ("*" allows any).
local allowed = {}
for _, origin in ipairs(config.origins or {}) do allowed[origin] = true end
local methods = config.methods or "GET, POST, PUT, DELETE, OPTIONS"
local max_age = tostring(config.max_age or 600)

local function allow(origin)
  return origin ~= nil and (allowed[origin] or allowed["*"])
end

function on_request(h)
  local headers = h:headers()
  local origin = headers:get("origin")
  h:streamInfo():dynamicMetadata():set("cors", "origin", origin or "")
  if headers:get(":method") ~= "OPTIONS" or headers:get("access-control-request-method") == nil then return end
  if not allow(origin) then
    h:respond({ [":status"] = "403" }, "origin not allowed\n")
    return
  end
  h:respond({
    [":status"] = "204",
    ["access-control-allow-origin"] = origin,
    ["access-control-allow-methods"] = methods,
    ["access-control-allow-headers"] = headers:get("access-control-request-headers") or "",
    ["access-control-max-age"] = max_age,
    ["vary"] = "Origin",
  }, "")
end

function on_response(h)
  local origin = h:streamInfo():dynamicMetadata():get("cors").origin
  if allow(origin) then
    h:headers():replace("access-control-allow-origin", origin)
    h:headers():add("vary", "Origin")
  end
end
