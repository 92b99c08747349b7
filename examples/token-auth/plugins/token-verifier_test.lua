-- token-verifier asks the ext-auth cluster about the request's token on protected paths.
local verifier = luxy_test.load("token-verifier", {
  config = { cluster = "ext-auth", timeout_ms = 250, paths = { "/books", "/orders" } },
})

describe("token-verifier", function()
  it("lets unprotected paths through without asking ext-auth", function()
    local result = verifier:request({ path = "/health" })
    assert.not_nil(result.upstream)
    assert.equals(0, #result.calls)
  end)

  it("answers 401 itself when the token is missing", function()
    local result = verifier:request({ path = "/books/1" })
    assert.is_nil(result.upstream)
    assert.equals(401, result.reply.status)
    assert.equals("Bearer", result.reply.headers["www-authenticate"])
    assert.equals("missing token\n", result.response.body)
  end)

  it("asks ext-auth and marks the request when the token is good", function()
    local result = verifier:request({
      path = "/books/1", headers = { authorization = "Bearer good" },
      calls = { ["ext-auth"] = { status = 200 } },
    })
    local call = result.calls[1]
    assert.equals("ext-auth", call.cluster)
    assert.equals("/verify", call.path)
    assert.equals("Bearer good", call.headers.authorization)
    assert.equals("/books/1", call.headers["x-original-path"])
    assert.equals(250, call.timeout_ms)
    assert.equals("ext-auth", result.upstream.headers["x-auth-checked"])
  end)

  it("answers 403 and logs a warning when ext-auth refuses the token", function()
    local result = verifier:request({
      path = "/orders", headers = { authorization = "Bearer bad" },
      calls = { ["ext-auth"] = { status = 401 } },
    })
    assert.equals(403, result.response.status)
    assert.logged(result, "token refused by ext%-auth %(401%) for /orders")
    assert.is_true(result:logged("refused", "warn"))
  end)

  it("answers 503 when ext-auth times out", function()
    local result = verifier:request({
      path = "/orders", headers = { authorization = "Bearer slow" },
      calls = { ["ext-auth"] = luxy_test.timeout() },
    })
    assert.equals(503, result.response.status)
    assert.equals("auth service unavailable\n", result.response.body)
    assert.logged(result, "%(504%)")
  end)
end)
