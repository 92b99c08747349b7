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

-- The format is compiled once, here, by the platform (an unknown operator refuses the
-- configuration); a line is then one call that reads the request's values and joins them.
local format
if config.format == "text" then
  format = luxy.log_format(config.text_format or DEFAULT_TEXT)
else
  -- A field that is one operator keeps its type (numbers stay numbers, absent is null); a
  -- field mixing text and operators is a string. A custom json_format is put in key order.
  format = luxy.log_format(config.json_format or DEFAULT_JSON)
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
    buffer[buffered] = format:render(h)
  end
else
  function on_log(h)
    -- The format itself: rendered straight into the log, with no Lua string in between.
    h:accessLog(destination, format)
  end
end
