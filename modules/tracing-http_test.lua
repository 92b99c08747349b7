-- tracing-http: a sampled request carries a trace context upstream; an incoming one keeps its trace id.
describe("tracing-http", function()
  it("keeps the incoming trace id and makes a span of its own", function()
    local tracing = luxy_test.load("tracing-http", { config = { collector_cluster = "collector", sample_rate = 1 } })
    local result = tracing:request({ headers = {
      traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } })
    local trace, span = result.upstream.headers["traceparent"]:match("^00%-(%x+)%-(%x+)%-01$")
    assert.equals("4bf92f3577b34da6a3ce929d0e0e4736", trace)
    assert.not_equals("00f067aa0ba902b7", span)
  end)

  it("injects nothing for an unsampled root request", function()
    local tracing = luxy_test.load("tracing-http", { config = { collector_cluster = "collector", sample_rate = 0 } })
    assert.is_nil(tracing:request({}).upstream.headers["traceparent"])
  end)
end)
