-- tracing-http: one span per request, propagated in W3C trace context (traceparent,
-- tracestate) and B3 (single `b3` header or x-b3-* headers), exported in batches to a
-- collector cluster as Zipkin v2 JSON or OTLP/HTTP JSON.
--
-- Sampling: a request that carries a sampling decision (traceparent flags, b3, x-b3-sampled)
-- keeps it; others are sampled at `sample_rate`. An unsampled request costs one header read
-- per propagation format and nothing else: no ids, no strings, no span. A sampled one gets a
-- new span id (its parent: the incoming span), injected in every configured format, and its
-- span is encoded in the log phase into a per-worker buffer. A timer sends the buffer with an
-- asynchronous httpCall every `flush_interval` seconds: export never delays a request. A
-- buffer over `max_buffered_spans` drops new spans (counted in the `tracing-http` shared
-- dictionary under `dropped_spans`).
--
-- config:
--   collector_cluster: the cluster spans are POSTed to (required)
--   format: zipkin (default) | otlp;  path: default /api/v2/spans (zipkin), /v1/traces (otlp)
--   sample_rate: 0..1 (default 1);  propagation: list of w3c, b3, b3multi (default [w3c, b3])
--   service_name (default "luxy"), flush_interval (s, default 1), max_buffered_spans (1000)

schema = {
  type = "object",
  required = { "collector_cluster" },
  properties = {
    collector_cluster = { type = "string", minLength = 1 },
    format = { type = "string", enum = { "zipkin", "otlp" }, default = "zipkin" },
    path = { type = "string", minLength = 1 },
    authority = { type = "string", minLength = 1 },
    sample_rate = { type = "number", minimum = 0, maximum = 1, default = 1 },
    propagation = { type = "array", minItems = 1, default = { "w3c", "b3" },
                    items = { type = "string", enum = { "w3c", "b3", "b3multi" } } },
    service_name = { type = "string", minLength = 1, default = "luxy" },
    flush_interval = { type = "number", minimum = 0.01, maximum = 60, default = 1 },
    max_buffered_spans = { type = "integer", minimum = 1, default = 1000 },
    timeout_ms = { type = "integer", minimum = 1, default = 5000 },
  },
}

local otlp = config.format == "otlp"
local cluster = config.collector_cluster
local rate = config.sample_rate
local max_buffered = config.max_buffered_spans
local export_headers = {
  [":method"] = "POST",
  [":path"] = config.path or (otlp and "/v1/traces" or "/api/v2/spans"),
  [":authority"] = config.authority or cluster,
  ["content-type"] = "application/json",
}
local w3c, b3, b3multi = false, false, false
for _, name in ipairs(config.propagation) do
  if name == "w3c" then w3c = true elseif name == "b3" then b3 = true else b3multi = true end
end

local random, format, floor, max, concat = math.random, string.format, math.floor, math.max, table.concat
local META = "tracing-http"
local NO_TRACE = string.rep("0", 32)

local function hex(digits)
  if digits == 16 then return format("%08x%08x", random(0, 0xffffffff), random(0, 0xffffffff)) end
  return format("%08x%08x%08x%08x", random(0, 0xffffffff), random(0, 0xffffffff),
    random(0, 0xffffffff), random(1, 0xffffffff))
end

-- The incoming context: trace id, parent span id, and the parent's decision (true, false or
-- nil when it made none). Only the configured formats are read (one header read each for an
-- unsampled request); the first that has one wins, in W3C, b3, x-b3-* order.
local function extract(headers)
  local tp = w3c and headers:get("traceparent")
  if tp then
    local trace, span, flags = tp:match("^00%-(%x+)%-(%x+)%-(%x%x)$")
    if trace and #trace == 32 and #span == 16 and trace ~= NO_TRACE then
      return trace:lower(), span:lower(), (tonumber(flags, 16) & 1) == 1
    end
  end
  local single = b3 and headers:get("b3")
  if single then
    if single == "0" then return nil, nil, false end
    if single == "1" or single == "d" then return nil, nil, true end
    local trace, span, rest = single:match("^(%x+)%-(%x+)%-?(.*)$")
    if trace and (#trace == 32 or #trace == 16) and #span == 16 then
      local flag = rest:sub(1, 1)
      local decision = nil
      if flag == "1" or flag == "d" then decision = true elseif flag == "0" then decision = false end
      return trace:lower(), span:lower(), decision
    end
  end
  if not b3multi then return nil, nil, nil end
  local trace = headers:get("x-b3-traceid")
  local decision = nil
  local sampled = headers:get("x-b3-sampled")
  if headers:get("x-b3-flags") == "1" or sampled == "1" or sampled == "true" then decision = true
  elseif sampled == "0" or sampled == "false" then decision = false end
  if trace then
    local span = headers:get("x-b3-spanid")
    if (#trace == 32 or #trace == 16) and span and #span == 16 then return trace:lower(), span:lower(), decision end
  end
  return nil, nil, decision
end

function on_request(h)
  local headers = h:headers()
  local trace, parent, decision = extract(headers)
  local sampled = decision
  if sampled == nil then sampled = random() < rate end
  if not sampled then
    -- The incoming headers go on as they came, and there is no span to finish: the log
    -- phase is not run for this request at all.
    h:skipPhase("log")
    return
  end
  trace = trace or hex(32)
  local span = hex(16)
  if w3c then
    headers:replace("traceparent", "00-" .. (#trace == 16 and ("0000000000000000" .. trace) or trace) .. "-" .. span .. "-01")
  end
  if b3 then headers:replace("b3", trace .. "-" .. span .. "-1" .. (parent and ("-" .. parent) or "")) end
  if b3multi then
    headers:replace("x-b3-traceid", trace)
    headers:replace("x-b3-spanid", span)
    headers:replace("x-b3-sampled", "1")
    if parent then headers:replace("x-b3-parentspanid", parent) else headers:remove("x-b3-parentspanid") end
  end
  h:streamInfo():dynamicMetadata():set(META, "span", { trace = trace, id = span, parent = parent })
end

local buffer, buffered = {}, 0
local dropped = luxy.shared("tracing-http")

local SPECIAL = '[%c"\\]'
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\" }
local function escape(c) return escapes[c] or format("\\u%04x", c:byte()) end
local function quote(s)
  s = tostring(s)
  if s:find(SPECIAL) then s = s:gsub(SPECIAL, escape) end
  return '"' .. s .. '"'
end
local service_name = quote(config.service_name)

-- What a span reads of its request, asked of the handle once each.
local function request_fields(h)
  local request = h:requestHeaders()
  return request:get(":method") or "", request:get(":path") or "", h:route() or "", h:cluster(),
    h:direction() == "outbound"
end

local function zipkin_span(s, h, info, status)
  local method, path, route, upstream, outbound = request_fields(h)
  local err = status >= 500 or status == 0
  return concat({
    '{"traceId":"', s.trace, '","id":"', s.id, '"',
    s.parent and (',"parentId":"' .. s.parent .. '"') or "",
    ',"name":', quote(method .. " " .. route),
    ',"kind":"', outbound and "CLIENT" or "SERVER", '"',
    ',"timestamp":', floor(info:startTime() * 1000),
    ',"duration":', max(1, floor(info:duration() * 1000)),
    ',"localEndpoint":{"serviceName":', service_name, '}',
    ',"tags":{"http.method":', quote(method),
    ',"http.path":', quote(path),
    ',"http.status_code":"', status, '"',
    ',"luxy.route":', quote(route),
    ',"luxy.response_flags":', quote(info:responseFlags()),
    upstream and (',"upstream_cluster":' .. quote(upstream)) or "",
    err and ',"error":"true"' or "",
    '}}',
  })
end

local function attribute(key, value)
  if math.type(value) == "integer" then
    return '{"key":"' .. key .. '","value":{"intValue":"' .. value .. '"}}'
  end
  return '{"key":"' .. key .. '","value":{"stringValue":' .. quote(value) .. '}}'
end

local function otlp_span(s, h, info, status)
  local method, path, route, _, outbound = request_fields(h)
  local start = floor(info:startTime() * 1000) -- µs; nanoseconds as strings below
  return concat({
    '{"traceId":"', s.trace, '","spanId":"', s.id, '"',
    s.parent and (',"parentSpanId":"' .. s.parent .. '"') or "",
    ',"name":', quote(method .. " " .. route),
    ',"kind":', outbound and 3 or 2,
    ',"startTimeUnixNano":"', start, '000"',
    ',"endTimeUnixNano":"', start + max(1, floor(info:duration() * 1000)), '000"',
    ',"attributes":[', attribute("http.request.method", method),
    ',', attribute("url.path", path),
    ',', attribute("http.response.status_code", status),
    ',', attribute("luxy.route", route),
    ',', attribute("luxy.response_flags", info:responseFlags()),
    '],"status":{"code":', (status >= 500 or status == 0) and 2 or 0, '}}',
  })
end

local encode = otlp and otlp_span or zipkin_span

function on_log(h)
  local info = h:streamInfo()
  local meta = info:dynamicMetadata():get(META)
  if not meta then return end
  if buffered >= max_buffered then
    dropped:incr("dropped_spans", 1, 0)
    return
  end
  buffered = buffered + 1
  buffer[buffered] = encode(meta.span, h, info, info:responseCode())
end

local otlp_head = '{"resourceSpans":[{"resource":{"attributes":[' .. attribute("service.name", config.service_name)
  .. ']},"scopeSpans":[{"scope":{"name":"luxy.tracing-http"},"spans":['
local timeout = config.timeout_ms

luxy.timer.every(config.flush_interval, function()
  if buffered == 0 then return end
  local spans = table.concat(buffer, ",", 1, buffered)
  buffer, buffered = {}, 0
  local body = otlp and (otlp_head .. spans .. "]}]}]}") or ("[" .. spans .. "]")
  luxy.httpCall(cluster, export_headers, body, timeout, { asynchronous = true })
end)
