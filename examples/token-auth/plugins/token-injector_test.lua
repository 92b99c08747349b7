-- token-injector adds the service's token to outbound requests that carry none.
local injector = luxy_test.load("token-injector", { config = { token = "Bearer s3cret" } })

describe("token-injector", function()
  it("adds the token", function()
    local result = injector:request({ direction = "outbound", path = "/books" })
    assert.equals("Bearer s3cret", result.upstream.headers.authorization)
  end)

  it("keeps a token the request already has", function()
    local result = injector:request({ direction = "outbound", headers = { authorization = "Bearer mine" } })
    assert.equals("Bearer mine", result.upstream.headers.authorization)
    assert.equals(1, #result.upstream.headers.list)
  end)

  it("uses the configured header", function()
    local custom = luxy_test.load("token-injector", { config = { token = "t", header = "x-api-key" } })
    assert.equals("t", custom:request({}).upstream.headers["x-api-key"])
  end)

  it("refuses to load without a token", function()
    assert.has_error(function() luxy_test.load("token-injector", { config = {} }) end,
      "config.token is required")
  end)
end)
