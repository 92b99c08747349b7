-- throttle-service (the same script as throttle-route, keyed by destination service by default).
describe("throttle-service", function()
  it("answers 429 past the limit, one bucket per service", function()
    local limiter = luxy_test.load("throttle-service", { config = { requests = 1, period = 60, dict = "throttle-service-test" } })
    assert.equals(200, limiter:request({ service = "shop", route = "r1" }).response.status)
    -- Another route to the same service shares its bucket.
    local limited = limiter:request({ service = "shop", route = "r2" })
    assert.equals(429, limited.response.status)
    assert.equals("1", limited.response.headers["x-ratelimit-limit"])
    assert.equals("LR,RL", limited.response_flags)
    assert.equals(200, limiter:request({ service = "cart", route = "r1" }).response.status)
  end)
end)
