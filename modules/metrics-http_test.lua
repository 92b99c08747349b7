-- metrics-http counts in the log phase (covered by MetricsHTTPTests with /metrics); here: its
-- config loads and requests pass untouched.
describe("metrics-http", function()
  it("loads with its buckets and lets requests through", function()
    local metrics = luxy_test.load("metrics-http", { config = { duration_buckets = { 0.1, 1 } } })
    assert.equals(200, metrics:request({}).response.status)
  end)
end)
