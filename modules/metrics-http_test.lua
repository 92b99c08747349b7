-- metrics-http counts every request in the log phase, by how it ended. Metric values live
-- for the whole file (as for a process), so each test reads them before and after. The
-- plugin and the chain below load it with the same (default) buckets: a VM declaring a
-- metric differently replaces it, as a reload does.
local REQUESTS = "luxy_http_requests_total"

local function requests(labels)
  return luxy_test.metric(REQUESTS, labels)
end

describe("metrics-http", function()
  local metrics = luxy_test.load("metrics-http")

  it("counts requests under their direction, route, service, cluster and status class", function()
    local labels = { direction = "inbound", route = "orders", service = "shop", cluster = "backend", status_class = "2xx" }
    local before = requests(labels)
    for _ = 1, 3 do
      assert.equals(200, metrics:request({ route = "orders", service = "shop", cluster = "backend" }).response.status)
    end
    assert.equals(before + 3, requests(labels))
    -- Nothing else was counted under that route.
    assert.equals(before + 3, requests({ route = "orders" }))
  end)

  it("counts by the status the client got, and labels a request without route or service with empty strings", function()
    local not_found = { route = "", service = "", cluster = "", status_class = "4xx" }
    local before = requests(not_found)
    metrics:request({ response = { status = 404 } })
    assert.equals(before + 1, requests(not_found))
  end)

  it("counts an upstream failure as 5xx", function()
    local failed = { route = "flaky", status_class = "5xx" }
    local before = requests(failed)
    metrics:request({ route = "flaky", response = luxy_test.failure("connection refused") })
    metrics:request({ route = "flaky", response = luxy_test.timeout() })
    assert.equals(before + 2, requests(failed))
    assert.equals(0, requests({ route = "flaky", status_class = "2xx" }))
  end)

  it("observes body sizes and durations in histograms", function()
    metrics:request({ route = "sizes", body = string.rep("x", 50), response = { body = string.rep("y", 500) } })
    local received = luxy_test.metric("luxy_http_request_bytes", { route = "sizes" })
    assert.equals(1, received.count)
    assert.equals(50, received.sum)
    assert.equals({ 100, 1000, 10000, 100000, 1000000, 10000000 }, received.bounds)
    assert.equals({ 1, 1, 1, 1, 1, 1 }, received.buckets)  -- cumulative: 50 is under every bound
    local sent = luxy_test.metric("luxy_http_response_bytes", { route = "sizes" })
    assert.equals(500, sent.sum)
    assert.equals({ 0, 1, 1, 1, 1, 1 }, sent.buckets)
    local duration = luxy_test.metric("luxy_http_request_duration_seconds", { route = "sizes" })
    assert.equals(1, duration.count)
    assert.truthy(duration.sum >= 0 and duration.sum < 10)
  end)

  it("reads nothing for a metric no plugin declared, and refuses a label the metric has not", function()
    assert.is_nil(luxy_test.metric("no_such_metric_total"))
    assert.has_error(function() requests({ code = "200" }) end, "has no label 'code'")
  end)

  describe("in a chain", function()
    local chain = luxy_test.chain("testdata/log-phase-chain.yaml", "inbound-http")

    it("counts a later stage's local reply and a failing stage's request", function()
      local denied, failed = { route = "chain", status_class = "4xx" }, { route = "chain", status_class = "5xx" }
      local before_denied, before_failed = requests(denied), requests(failed)
      assert.equals(403, chain:request({ path = "/deny", route = "chain" }).response.status)
      assert.equals(500, chain:request({ path = "/fail", route = "chain" }).response.status)
      assert.equals(before_denied + 1, requests(denied))
      assert.equals(before_failed + 1, requests(failed))
    end)
  end)
end)
