-- logging-http works in the log phase (covered by LoggingHTTPTests on a real proxy); here: its
-- config loads and requests pass untouched.
describe("logging-http", function()
  it("loads with a text format and lets requests through", function()
    local logging = luxy_test.load("logging-http", { config = { format = "text", text_format = "%REQ(:METHOD)% %RESPONSE_CODE%" } })
    assert.equals(200, logging:request({}).response.status)
  end)
end)
