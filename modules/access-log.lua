-- access-log: one JSON line per request, written through the proxy's log at info level:
-- method, path, status, duration in ms, route, upstream and response bytes.
--
-- Give it the highest priority in a chain so that its response phase runs last and sees
-- the response as the client gets it.
--
-- config:
--   fields: extra request headers to include, e.g. [user-agent, x-request-id]

schema = {
  type = "object",
  properties = {
    fields = { type = "array", items = { type = "string", minLength = 1 }, default = {},
               description = "request headers added to each line" },
  },
}

local extra = config.fields

local SPECIAL = '[%c"\\]'
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\" }
local function escape(c)
  return escapes[c] or string.format("\\u%04x", string.byte(c))
end
-- Escapes only a value that needs it: the find answers for the common one.
local function quote(s)
  s = tostring(s)
  if s:find(SPECIAL) then s = s:gsub(SPECIAL, escape) end
  return '"' .. s .. '"'
end

function on_request(h)
  local headers = h:headers()
  local entry = {
    start = h:timestamp(),
    method = headers:get(":method"),
    path = headers:get(":path"),
  }
  for _, name in ipairs(extra) do
    entry[name] = headers:get(name)
  end
  h:streamInfo():dynamicMetadata():set("luxy.access-log", "entry", entry)
end

function on_response(h)
  local meta = h:streamInfo():dynamicMetadata():get("luxy.access-log")
  if not meta or not meta.entry then return end
  local e = meta.entry
  local headers = h:headers()
  local parts = {
    '"method":' .. quote(e.method),
    '"path":' .. quote(e.path),
    '"status":' .. (tonumber(headers:get(":status")) or 0),
    '"duration_ms":' .. math.tointeger(h:timestamp() - e.start),
    '"route":' .. quote(h:route() or ""),
    '"upstream":' .. quote(h:upstream() or ""),
    '"bytes":' .. (tonumber(headers:get("content-length")) or -1),
  }
  for _, name in ipairs(extra) do
    parts[#parts + 1] = quote(name) .. ":" .. (e[name] and quote(e[name]) or "null")
  end
  h:logInfo("{" .. table.concat(parts, ",") .. "}")
end
