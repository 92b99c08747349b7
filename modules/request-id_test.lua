-- request-id gives every request an x-request-id and echoes it on the response.
local request_id = luxy_test.load("request-id")

describe("request-id", function()
  it("makes a UUID v4 when the client sent none", function()
    local result = request_id:request({})
    local id = result.upstream.headers["x-request-id"]
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", id)
    assert.equals(id, result.response.headers["x-request-id"])
    assert.equals(id, result.metadata["luxy.request-id"].id)
  end)

  it("keeps the client's id", function()
    local result = request_id:request({ headers = { ["X-Request-Id"] = "abc-123" } })
    assert.equals("abc-123", result.upstream.headers["x-request-id"])
    assert.equals("abc-123", result.response.headers["x-request-id"])
  end)

  it("gives two requests two ids", function()
    local first = request_id:request({}).upstream.headers["x-request-id"]
    local second = request_id:request({}).upstream.headers["x-request-id"]
    assert.not_equals(first, second)
  end)

  it("does not replace an id the upstream answered with", function()
    local result = request_id:request({ response = { headers = { ["x-request-id"] = "from-upstream" } } })
    assert.equals("from-upstream", result.response.headers["x-request-id"])
  end)

  it("uses the configured header", function()
    local custom = luxy_test.load("request-id", { config = { header = "x-trace" } })
    local result = custom:request({})
    assert.not_nil(result.upstream.headers["x-trace"])
    assert.is_nil(result.upstream.headers["x-request-id"])
  end)
end)
