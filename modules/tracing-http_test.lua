-- tracing-http: a sampled request carries a trace context upstream (W3C, B3 single, B3
-- multi), keeps an incoming trace id, and leaves a span in the log phase; an unsampled one
-- is left as it came and makes no span.
local INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
local INCOMING_SPAN = "00f067aa0ba902b7"

local function tracing(config)
  config.collector_cluster = "collector"
  return luxy_test.load("tracing-http", { config = config })
end

-- Spans are buffered in the log phase and sent by a timer, which runs only when the test
-- moves the clock (luxy_test.advance): until then a buffer of one span shows each span made,
-- by the next one counted as dropped.
local function dropped()
  return luxy_test.shared("tracing-http", "dropped_spans") or 0
end

describe("tracing-http", function()
  it("keeps the incoming W3C trace id and makes a span of its own, the incoming span its parent", function()
    local result = tracing({ sample_rate = 1 }):request({ headers = {
      traceparent = "00-" .. INCOMING_TRACE .. "-" .. INCOMING_SPAN .. "-01" } })
    local trace, span = result.upstream.headers["traceparent"]:match("^00%-(%x+)%-(%x+)%-01$")
    assert.equals(INCOMING_TRACE, trace)
    assert.equals(16, #span)
    assert.not_equals(INCOMING_SPAN, span)
    -- b3 is propagated too by default: the same trace, the same new span, the parent last.
    assert.equals(INCOMING_TRACE .. "-" .. span .. "-1-" .. INCOMING_SPAN, result.upstream.headers["b3"])
    assert.same({ trace = INCOMING_TRACE, id = span, parent = INCOMING_SPAN }, result.metadata["tracing-http"].span)
  end)

  it("starts a trace for a sampled request that came without one", function()
    local result = tracing({ sample_rate = 1, propagation = { "w3c" } }):request({})
    local trace, span = result.upstream.headers["traceparent"]:match("^00%-(%x+)%-(%x+)%-01$")
    assert.equals(32, #trace)
    assert.equals(16, #span)
    assert.is_nil(result.upstream.headers["b3"])  -- only the configured formats
    assert.is_nil(result.metadata["tracing-http"].span.parent)
  end)

  it("extracts a B3 single header and injects W3C and B3 with its trace id", function()
    local trace, parent = "80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1"
    local result = tracing({ sample_rate = 0 }):request({ headers = { b3 = trace .. "-" .. parent .. "-1" } })
    -- The incoming decision (1) wins over sample_rate 0.
    local w3c_trace, span = result.upstream.headers["traceparent"]:match("^00%-(%x+)%-(%x+)%-01$")
    assert.equals(trace, w3c_trace)
    assert.equals(trace .. "-" .. span .. "-1-" .. parent, result.upstream.headers["b3"])
  end)

  it("extracts and injects B3 multi headers", function()
    local trace, parent = "463ac35c9f6413ad", "a2fb4a1d1a96d312"
    local result = tracing({ sample_rate = 0, propagation = { "b3multi" } }):request({ headers = {
      ["X-B3-TraceId"] = trace, ["X-B3-SpanId"] = parent, ["X-B3-Sampled"] = "1" } })
    local upstream = result.upstream.headers
    assert.equals(trace, upstream["x-b3-traceid"])
    assert.equals(parent, upstream["x-b3-parentspanid"])
    assert.equals("1", upstream["x-b3-sampled"])
    assert.matches("^%x+$", upstream["x-b3-spanid"])
    assert.equals(16, #upstream["x-b3-spanid"])
    assert.not_equals(parent, upstream["x-b3-spanid"])
    assert.is_nil(upstream["traceparent"])
  end)

  it("injects nothing and makes no span for an unsampled request", function()
    local plugin = tracing({ sample_rate = 0, max_buffered_spans = 1 })
    local before = dropped()
    for _ = 1, 3 do
      local result = plugin:request({})
      assert.is_nil(result.upstream.headers["traceparent"])
      assert.is_nil(result.upstream.headers["b3"])
      assert.is_nil(result.metadata["tracing-http"])
    end
    -- Three requests, a buffer of one span, and nothing dropped: no span was made.
    assert.equals(before, dropped())
  end)

  it("keeps an incoming decision not to sample, headers untouched", function()
    local incoming = "00-" .. INCOMING_TRACE .. "-" .. INCOMING_SPAN .. "-00"
    local result = tracing({ sample_rate = 1 }):request({ headers = { traceparent = incoming, b3 = "0" } })
    assert.equals(incoming, result.upstream.headers["traceparent"])
    assert.equals("0", result.upstream.headers["b3"])
    assert.is_nil(result.metadata["tracing-http"])
  end)

  it("buffers one span per sampled request in the log phase, past the buffer counted as dropped", function()
    local plugin = tracing({ sample_rate = 1, max_buffered_spans = 1 })
    local before = dropped()
    plugin:request({})                   -- fills the buffer
    assert.equals(before, dropped())
    plugin:request({ response = luxy_test.failure() })  -- a failed request has its span too
    assert.equals(before + 1, dropped())
    plugin:request({})
    assert.equals(before + 2, dropped())
  end)

  -- Last: moving the clock runs the timers of every plugin loaded above too (their collector
  -- is not scripted, so their calls fail and are logged); only calls to "spans" count here.
  it("sends the buffered spans to the collector from its timer, as Zipkin JSON", function()
    local cjson = require("cjson")
    local function sent(activity)
      local out = {}
      for _, call in ipairs(activity.calls) do if call.cluster == "spans" then out[#out + 1] = call end end
      return out
    end
    local plugin = luxy_test.load("tracing-http", { config = { collector_cluster = "spans", flush_interval = 5 } })
    local answers = { calls = { spans = { status = 202 } } }
    plugin:request({ path = "/a", route = "orders", headers = {
      traceparent = "00-" .. INCOMING_TRACE .. "-" .. INCOMING_SPAN .. "-01" } })
    plugin:request({ path = "/b", response = luxy_test.timeout() })
    assert.equals(0, #sent(luxy_test.advance(4.5, answers)), "nothing before the interval")
    local calls = sent(luxy_test.advance(0.5, answers))
    assert.equals(1, #calls)
    local call = calls[1]
    assert.equals("POST", call.method)
    assert.equals("/api/v2/spans", call.path)
    assert.equals("application/json", call.headers["content-type"])
    assert.is_true(call.async)
    local spans = cjson.decode(call.body)
    assert.equals(2, #spans)
    assert.equals(INCOMING_TRACE, spans[1].traceId)
    assert.equals(INCOMING_SPAN, spans[1].parentId)
    assert.equals("SERVER", spans[1].kind)
    assert.equals("/a", spans[1].tags["http.path"])
    assert.equals("200", spans[1].tags["http.status_code"])
    assert.equals("orders", spans[1].tags["luxy.route"])
    assert.equals("504", spans[2].tags["http.status_code"])
    assert.equals("UT", spans[2].tags["luxy.response_flags"])
    assert.equals("true", spans[2].tags["error"])
    -- The buffer went with the batch: the next interval sends nothing.
    assert.equals(0, #sent(luxy_test.advance(5, answers)))
  end)
end)
