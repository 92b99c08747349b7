-- logging-http writes one access-log line per request in the log phase, whatever happened:
-- the line's response code and flags say how the request ended.
local cjson = require("cjson")

-- The one line a request left, decoded.
local function entry(result)
  assert.equals(1, #result.access_log, "one access-log line per request")
  assert.equals("stdout", result.access_log[1].destination)
  return cjson.decode(result.access_log[1].line)
end

describe("logging-http", function()
  local logging = luxy_test.load("logging-http")

  it("logs a request the upstream answered as one JSON line, status 200 and no flag", function()
    local result = logging:request({
      method = "POST", path = "/orders", body = "hello", route = "orders", cluster = "backend",
      upstream = "10.0.0.9:8080", headers = { ["user-agent"] = "curl/8", ["x-request-id"] = "r-1" },
      response = { status = 200, body = "created!" },
    })
    assert.equals(200, result.response.status)
    assert.equals("-", result.response_flags)
    local line = entry(result)
    assert.equals(200, line.response_code)
    assert.equals("-", line.response_flags)
    assert.equals("POST", line.method)
    assert.equals("/orders", line.path)
    assert.equals("orders", line.route)
    assert.equals("backend", line.upstream_cluster)
    assert.equals("10.0.0.9:8080", line.upstream_host)
    assert.equals(5, line.bytes_received)
    assert.equals(8, line.bytes_sent)
    assert.equals("curl/8", line.user_agent)
    assert.equals("r-1", line.request_id)
    assert.equals("10.0.0.1:40000", line.downstream_remote_address)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", line.start_time)
    -- An absent operator is JSON null, not a string.
    assert.equals(cjson.null, cjson.decode(logging:request({}).access_log[1].line).user_agent)
  end)

  it("escapes a value's quotes, backslashes and control characters, and leaves a plain one as it is", function()
    local agent = 'say "hi" \\ tab\there\1'
    local line = entry(logging:request({ headers = { ["user-agent"] = agent, ["x-request-id"] = "plain-id" } }))
    assert.equals(agent, line.user_agent)
    assert.equals("plain-id", line.request_id)
  end)

  it("logs an upstream failure with its flag: UF for no connection, UT for a timeout", function()
    local refused = logging:request({ response = luxy_test.failure("connection refused") })
    assert.equals(503, refused.response.status)
    local line = entry(refused)
    assert.equals(503, line.response_code)
    assert.equals("UF", line.response_flags)

    local slow = entry(logging:request({ response = luxy_test.timeout() }))
    assert.equals(504, slow.response_code)
    assert.equals("UT", slow.response_flags)
  end)

  it("writes to the configured destination", function()
    local to_file = luxy_test.load("logging-http", { config = { destination = "/var/log/luxy/access.log" } })
    local result = to_file:request({})
    assert.equals("/var/log/luxy/access.log", result.access_log[1].destination)
  end)

  it("buffers lines for a collector and sends them in one batch from its timer", function()
    local collected = luxy_test.load("logging-http", { config = {
      format = "text", text_format = "%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%",
      collector = { cluster = "logs", path = "/ingest", flush_interval = 2, max_buffered_lines = 2 },
    } })
    local answers = { calls = { logs = { status = 200 } } }
    assert.equals(0, #collected:request({ path = "/one" }).access_log)  -- buffered, not written
    collected:request({ path = "/two", response = luxy_test.failure() })
    local dropped = luxy_test.shared("logging-http", "dropped_lines") or 0
    collected:request({ path = "/three" })  -- over max_buffered_lines: dropped, and counted
    assert.equals(dropped + 1, luxy_test.shared("logging-http", "dropped_lines"))
    assert.equals(0, #luxy_test.advance(1.9, answers).calls)
    local flushed = luxy_test.advance(0.1, answers)
    assert.equals(1, #flushed.calls)
    local call = flushed.calls[1]
    assert.equals("logs", call.cluster)
    assert.equals("POST", call.method)
    assert.equals("/ingest", call.path)
    assert.equals("text/plain", call.headers["content-type"])
    assert.equals("/one 200 -\n/two 503 UF\n", call.body)
    assert.equals(0, #luxy_test.advance(2, answers).calls)
  end)

  describe("in a chain", function()
    local chain = luxy_test.chain("testdata/log-phase-chain.yaml", "inbound-http")

    it("logs a local reply of a later stage with LR", function()
      local result = chain:request({ path = "/deny" })
      assert.equals(403, result.response.status)
      local line = entry(result)
      assert.equals(403, line.response_code)
      assert.equals("LR", line.response_flags)
      assert.equals("/deny", line.path)
    end)

    it("logs a failing stage's request with PF and status 500", function()
      local result = chain:request({ path = "/fail" })
      assert.equals(500, result.response.status)
      assert.matches("gate failed on purpose", result.error)
      local line = entry(result)
      assert.equals(500, line.response_code)
      assert.equals("PF", line.response_flags)
    end)

    it("logs a passing request with no flag", function()
      local line = entry(chain:request({ path = "/ok" }))
      assert.equals(200, line.response_code)
      assert.equals("-", line.response_flags)
    end)
  end)

  describe("with the text format", function()
    it("renders Envoy's operators: headers, a length limit, an absent value as -", function()
      local text = luxy_test.load("logging-http", { config = {
        format = "text",
        text_format = '%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL% %RESPONSE_CODE% '
          .. '%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% "%REQ(USER-AGENT):4%" "%REQ(X-MISSING)%" '
          .. '%RESP(CONTENT-TYPE)% %ROUTE_NAME%',
      } })
      local result = text:request({
        method = "PUT", path = "/items/7", body = "abc", route = "items", headers = { ["user-agent"] = "curl/8.5" },
        response = { status = 201, headers = { ["content-type"] = "text/plain" }, body = "ok" },
      })
      assert.equals('PUT /items/7 HTTP/1.1 201 - 3 2 "curl" "-" text/plain items', result.access_log[1].line)
    end)

    it("prefers the first header of an alternative and logs a local reply's flag", function()
      local text = luxy_test.load("logging-http", { config = {
        format = "text", text_format = "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%",
      } })
      local result = text:request({ path = "/new", headers = { ["x-envoy-original-path"] = "/old" },
                                    response = luxy_test.timeout() })
      assert.equals("/old 504 UT", result.access_log[1].line)
    end)

    it("refuses an unknown operator when it loads", function()
      assert.has_error(function()
        luxy_test.load("logging-http", { config = { format = "text", text_format = "%NOT_AN_OPERATOR%" } })
      end, "unknown operator %%NOT_AN_OPERATOR%%")
    end)
  end)
end)
