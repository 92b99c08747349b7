-- ext-auth answers every request itself: 200 for a configured token, 401 otherwise.
local auth = luxy_test.load("ext-auth", { config = { tokens = { "Bearer a", "Bearer b" } } })

describe("ext-auth", function()
  it("accepts a configured token", function()
    local result = auth:request({ path = "/verify", headers = { authorization = "Bearer b" } })
    assert.equals(200, result.reply.status)
    assert.equals("ok\n", result.reply.body)
    assert.is_nil(result.upstream)
  end)

  it("refuses another token, or none", function()
    assert.equals(401, auth:request({ headers = { authorization = "Bearer c" } }).response.status)
    assert.equals(401, auth:request({}).response.status)
  end)
end)

describe("the token-auth chains of luxy.yaml", function()
  local inbound = luxy_test.chain("../luxy.yaml", "inbound-http")

  it("runs token-verifier for the bookstore: a refused token never reaches it", function()
    local result = inbound:request({
      path = "/books", service = "bookstore", headers = { authorization = "Bearer wrong" },
      calls = { ["ext-auth"] = { status = 401 } },
    })
    assert.equals(403, result.response.status)
    assert.equals("ext-auth", result.calls[1].cluster)
  end)

  it("runs ext-auth (and not token-verifier) for the ext-auth service", function()
    local result = inbound:request({ service = "ext-auth", headers = { authorization = "Bearer 2f1acc6c3a606b082e5eef5e54414ffb" } })
    assert.equals(200, result.response.status)
    assert.equals(0, #result.calls)
  end)
end)
