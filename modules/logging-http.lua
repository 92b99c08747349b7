-- logging-http: the access log. One line per request, written in the log phase (`on_log`),
-- which runs at the end of every request whatever happened: answered by the upstream, by
-- Luxy or a plugin, failed by a plugin or the upstream, or left by the client. The line's
-- %RESPONSE_FLAGS% says why (UH, UF, UT, UO, URX, UR, NR, LR, DC, PF, …; `-` for none).
--
-- Lines go to stdout (a clean stream of JSON lines or text, apart from the operational log
-- on stderr) or to a file, through a writer thread: the loop never waits on the disk or pipe.
--
-- config:
--   format: json (default) or text
--   json_format: {key: "%OPERATOR%" or text with operators}; default: the fields below
--   text_format: Envoy's format string; default Envoy's default format
--   destination: stdout (default) or a file path
--   collector: {cluster, path, flush_interval, max_buffered_lines}: POST the lines in batches
--     to a cluster instead (newline-separated, from a timer; never delays a request)

schema = {
  type = "object",
  properties = {
    format = { type = "string", enum = { "json", "text" }, default = "json" },
    json_format = { type = "object", additionalProperties = true,
                    description = "output key -> format string (operators as in text_format)" },
    text_format = { type = "string", minLength = 1 },
    destination = { type = "string", minLength = 1, default = "stdout" },
    collector = { type = "object", required = { "cluster" }, properties = {
      cluster = { type = "string", minLength = 1 },
      path = { type = "string", minLength = 1, default = "/" },
      authority = { type = "string", minLength = 1 },
      flush_interval = { type = "number", minimum = 0.01, maximum = 60, default = 1 },
      max_buffered_lines = { type = "integer", minimum = 1, default = 10000 },
      timeout_ms = { type = "integer", minimum = 1, default = 5000 },
    } },
  },
}

local DEFAULT_TEXT = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
  .. '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
  .. '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"'

-- Ordered, so every line has its keys in the same order.
local DEFAULT_JSON = {
  { "start_time", "%START_TIME%" }, { "method", "%REQ(:METHOD)%" }, { "path", "%REQ(:PATH)%" },
  { "protocol", "%PROTOCOL%" }, { "response_code", "%RESPONSE_CODE%" },
  { "response_flags", "%RESPONSE_FLAGS%" }, { "bytes_received", "%BYTES_RECEIVED%" },
  { "bytes_sent", "%BYTES_SENT%" }, { "duration", "%DURATION%" }, { "route", "%ROUTE_NAME%" },
  { "upstream_cluster", "%UPSTREAM_CLUSTER%" }, { "upstream_host", "%UPSTREAM_HOST%" },
  { "downstream_remote_address", "%DOWNSTREAM_REMOTE_ADDRESS%" },
  { "user_agent", "%REQ(USER-AGENT)%" }, { "request_id", "%REQ(X-REQUEST-ID)%" },
  { "authority", "%REQ(:AUTHORITY)%" },
}

local destination = config.destination

-- %START_TIME% as Envoy prints it (UTC, milliseconds), the date part computed once a second.
local cached_second, cached_prefix = -1, ""
local function start_time(info)
  local ms = math.floor(info:startTime())
  local second = ms // 1000
  if second ~= cached_second then
    local days, rest = second // 86400, second % 86400
    -- Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    local z = days + 719468
    local era = z // 146097
    local doe = z - era * 146097
    local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    local mp = (5 * doy + 2) // 153
    local d = doy - (153 * mp + 2) // 5 + 1
    local m = mp < 10 and mp + 3 or mp - 9
    local y = yoe + era * 400 + (m <= 2 and 1 or 0)
    cached_prefix = string.format("%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, rest // 3600, rest % 3600 // 60, rest % 60)
    cached_second = second
  end
  return string.format("%s.%03dZ", cached_prefix, ms % 1000)
end

-- What one line reads, fetched once per line and only when an operator asks: the line is
-- written from inside one on_log call, so plain upvalues serve as its context.
local line_info, line_request, line_response
local function request_map(h)
  if not line_request then line_request = h:requestHeaders() end
  return line_request
end
local function response_map(h)
  if not line_response then line_response = h:headers() end
  return line_response
end

local function header_getter(get_map, spec)
  local main, alt = spec:match("^([^?]+)%?(.+)$")
  main = (main or spec):lower()
  alt = alt and alt:lower()
  return function(h)
    local map = get_map(h)
    local v = map:get(main)
    if v == nil and alt then v = map:get(alt) end
    return v
  end
end

-- Each operator: a function of the handle giving a string, a number or nil (printed "-").
local simple = {
  START_TIME = function(h) return start_time(line_info) end,
  PROTOCOL = function(h) return line_info:protocol() end,
  RESPONSE_CODE = function(h) return line_info:responseCode() end,
  RESPONSE_FLAGS = function(h) return line_info:responseFlags() end,
  BYTES_RECEIVED = function(h) return line_info:bytesReceived() end,
  BYTES_SENT = function(h) return line_info:bytesSent() end,
  DURATION = function(h) return math.floor(line_info:duration()) end,
  ROUTE_NAME = function(h) return h:route() end,
  UPSTREAM_HOST = function(h) return h:upstream() end,
  UPSTREAM_CLUSTER = function(h) return h:cluster() end,
  UPSTREAM_REQUEST_ATTEMPT_COUNT = function(h) return line_info:attemptCount() end,
  DOWNSTREAM_REMOTE_ADDRESS = function(h) return line_info:downstreamRemoteAddress() end,
  DOWNSTREAM_LOCAL_ADDRESS = function(h) return line_info:downstreamLocalAddress() end,
  DOWNSTREAM_DIRECT_REMOTE_ADDRESS = function(h) return line_info:downstreamDirectRemoteAddress() end,
  REQUESTED_SERVER_NAME = function(h) return line_info:requestedServerName() end,
  DIRECTION = function(h) return h:direction() end,
  SERVICE = function(h) return h:service() end,
}

local function operator(body)
  local fn = simple[body]
  if fn then return fn end
  local kind, spec, len = body:match("^(%u+)%(([^)]+)%):?(%d*)$")
  local getter
  if kind == "REQ" then getter = header_getter(request_map, spec)
  elseif kind == "RESP" then getter = header_getter(response_map, spec)
  else error("logging-http: unknown operator %" .. body .. "% in the format", 0) end
  local max = tonumber(len)
  if not max then return getter end
  return function(h)
    local v = getter(h)
    return v and v:sub(1, max)
  end
end

-- A format string compiled once: literal text and operator functions, in order.
local function compile(format)
  local parts, pos = {}, 1
  while pos <= #format do
    local s, e, body = format:find("%%([%u_]+[^%%]-)%%", pos)
    if not s then
      parts[#parts + 1] = format:sub(pos)
      break
    end
    if s > pos then parts[#parts + 1] = format:sub(pos, s - 1) end
    parts[#parts + 1] = operator(body)
    pos = e + 1
  end
  return parts
end

local find, gsub, format, concat, tostring, mtype = string.find, string.gsub, string.format, table.concat, tostring, math.type

-- A line is built in these buffers and joined once: one string per line, no table per line.
-- on_log does not yield while it renders, so one buffer of each kind serves every line.
local text_buffer, json_buffer = {}, { "{" }

local function render_text(parts, h)
  local buf = text_buffer
  for i = 1, #parts do
    local p = parts[i]
    if type(p) == "function" then
      local v = p(h)
      buf[i] = v == nil and "-" or v
    else
      buf[i] = p
    end
  end
  return concat(buf, "", 1, #parts)
end

-- JSON string quoting; the find answers for the common value that needs no escape.
local SPECIAL = '[%c"\\]'
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape(c)
  return escapes[c] or format("\\u%04x", c:byte())
end
local function escaped(s)
  if find(s, SPECIAL) then return (gsub(s, SPECIAL, escape)) end
  return s
end

local render

if config.format == "text" then
  local parts = compile(config.text_format or DEFAULT_TEXT)
  render = function(h) return render_text(parts, h) end
else
  -- A field that is one operator keeps its type (numbers stay numbers, absent is null);
  -- a field mixing text and operators is a string. Each field's `"key":` (after a comma but
  -- for the first) is made once here.
  local fields = {}
  local entries = DEFAULT_JSON
  if config.json_format then
    entries = {}
    for key, format in pairs(config.json_format) do entries[#entries + 1] = { key, tostring(format) } end
    table.sort(entries, function(a, b) return a[1] < b[1] end)
  end
  for i, entry in ipairs(entries) do
    local parts = compile(entry[2])
    local single = #parts == 1 and type(parts[1]) == "function"
    fields[i] = { prefix = (i > 1 and "," or "") .. '"' .. escaped(entry[1]) .. '":',
                  operator = single and parts[1] or nil, parts = parts }
  end
  local count = #fields
  render = function(h)
    local buf, n = json_buffer, 1
    for i = 1, count do
      local f = fields[i]
      local op = f.operator
      local v
      if op then v = op(h) else v = render_text(f.parts, h) end
      if v == nil then
        buf[n + 1], buf[n + 2] = f.prefix, "null"
        n = n + 2
      elseif op and mtype(v) then
        buf[n + 1], buf[n + 2] = f.prefix, v  -- concat writes a number as tostring does
        n = n + 2
      else
        buf[n + 1], buf[n + 2], buf[n + 3], buf[n + 4] = f.prefix, '"', escaped(tostring(v)), '"'
        n = n + 4
      end
    end
    buf[n + 1] = "}"
    return concat(buf, "", 1, n + 1)
  end
end

local function write_line(h)
  line_info, line_request, line_response = h:streamInfo(), nil, nil
  local line = render(h)
  line_info, line_request, line_response = nil, nil, nil  -- the handle's objects die with the request
  return line
end

local collector = config.collector
if collector then
  -- Lines wait in a per-worker buffer; a timer sends them with an asynchronous call.
  local buffer, buffered = {}, 0
  local dropped = luxy.shared("logging-http")
  local headers = {
    [":method"] = "POST", [":path"] = collector.path, [":authority"] = collector.authority or collector.cluster,
    ["content-type"] = config.format == "text" and "text/plain" or "application/x-ndjson",
  }
  local max, cluster, timeout = collector.max_buffered_lines, collector.cluster, collector.timeout_ms
  luxy.timer.every(collector.flush_interval, function()
    if buffered == 0 then return end
    local body = table.concat(buffer, "\n", 1, buffered) .. "\n"
    buffer, buffered = {}, 0
    luxy.httpCall(cluster, headers, body, timeout, { asynchronous = true })
  end)
  function on_log(h)
    if buffered >= max then
      dropped:incr("dropped_lines", 1, 0)
      return
    end
    buffered = buffered + 1
    buffer[buffered] = write_line(h)
  end
else
  function on_log(h)
    h:accessLog(destination, write_line(h))
  end
end
