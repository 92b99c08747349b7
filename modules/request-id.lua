-- request-id: gives every request an x-request-id (kept when the client sent one), so logs
-- of the proxy, the plugins and the service can be joined. The id is echoed on the response.
--
-- config:
--   header: name of the header (default "x-request-id")

schema = {
  type = "object",
  properties = {
    header = { type = "string", minLength = 1, default = "x-request-id",
               description = "the header that carries the id" },
  },
}

local header = config.header
local counter = 0

local function new_id()
  counter = counter + 1
  -- 122 random bits in UUID v4 layout; math.random is seeded per VM by Lua 5.4.
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x",
    math.random(0, 0xffffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    0x8000 | math.random(0, 0x3fff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end

function on_request(h)
  local id = h:headers():get(header)
  if id == nil or id == "" then
    id = new_id()
    h:headers():add(header, id)
  end
  h:streamInfo():dynamicMetadata():set("luxy.request-id", "id", id)
end

function on_response(h)
  local meta = h:streamInfo():dynamicMetadata():get("luxy.request-id")
  if meta and meta.id and h:headers():get(header) == nil then
    h:headers():add(header, meta.id)
  end
end
