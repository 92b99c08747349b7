-- throttle-route: N requests pass, the next is answered 429 with the rate-limit headers and
-- the flag RL; the bucket is kept per route in a shared dictionary. A period of a minute
-- keeps tokens from coming back while a test runs.
describe("throttle-route", function()
  it("lets N requests through, then answers 429 with retry-after, x-ratelimit-* and RL", function()
    local limiter = luxy_test.load("throttle-route", { config = { requests = 2, period = 60, dict = "throttle-route-test" } })
    for _ = 1, 2 do
      local passed = limiter:request({ route = "orders" })
      assert.equals(200, passed.response.status)
      assert.not_nil(passed.upstream)
      assert.equals("-", passed.response_flags)
    end
    local limited = limiter:request({ route = "orders" })
    assert.is_nil(limited.upstream)
    assert.equals(429, limited.response.status)
    assert.equals("rate limited\n", limited.response.body)
    assert.equals("2", limited.response.headers["x-ratelimit-limit"])
    assert.equals("0", limited.response.headers["x-ratelimit-remaining"])
    -- A token comes back every 30 s: the next one in at most 30 s, a full bucket in at most 60 s.
    local retry_after, reset = tonumber(limited.response.headers["retry-after"]), tonumber(limited.response.headers["x-ratelimit-reset"])
    assert.truthy(retry_after >= 1 and retry_after <= 30, "retry-after " .. retry_after)
    assert.truthy(reset > 30 and reset <= 60, "x-ratelimit-reset " .. reset)
    -- The flag the log phase of a logging module would print: the local reply, rate limited.
    assert.equals("LR,RL", limited.response_flags)
  end)

  it("keeps one bucket per route", function()
    local limiter = luxy_test.load("throttle-route", { config = { requests = 1, period = 60, dict = "throttle-route-test" } })
    assert.equals(200, limiter:request({ route = "a" }).response.status)
    assert.equals(429, limiter:request({ route = "a" }).response.status)
    assert.equals(200, limiter:request({ route = "b" }).response.status)
  end)

  it("shares the bucket between two loads of the plugin through the dictionary", function()
    local config = { requests = 1, period = 60, dict = "throttle-route-shared" }
    local first, second = luxy_test.load("throttle-route", { config = config }), luxy_test.load("throttle-route", { config = config })
    assert.equals(200, first:request({ route = "r" }).response.status)
    assert.equals(429, second:request({ route = "r" }).response.status)
  end)

  it("allows a burst over the rate, then limits", function()
    local limiter = luxy_test.load("throttle-route", { config = { requests = 1, period = 60, burst = 3, dict = "throttle-route-test" } })
    for i = 1, 3 do assert.equals(200, limiter:request({ route = "burst" }).response.status, "request " .. i) end
    assert.equals(429, limiter:request({ route = "burst" }).response.status)
  end)

  it("limits by a header's value, and lets a request without it through", function()
    local limiter = luxy_test.load("throttle-route", { config = { requests = 1, period = 60, key = "header", header = "x-tenant",
                                                                  dict = "throttle-route-test" } })
    assert.equals(200, limiter:request({ headers = { ["x-tenant"] = "acme" } }).response.status)
    assert.equals(429, limiter:request({ headers = { ["x-tenant"] = "acme" } }).response.status)
    assert.equals(200, limiter:request({ headers = { ["x-tenant"] = "other" } }).response.status)
    assert.equals(200, limiter:request({}).response.status)
    assert.equals(200, limiter:request({}).response.status)
  end)
end)
