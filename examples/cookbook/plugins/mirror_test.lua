local plugin = luxy_test.load("mirror", { config = { cluster = "mirror", timeout_ms = 200 } })

local function order()
  return { method = "POST", path = "/orders?x=1", headers = { ["content-type"] = "application/json" },
           body = '{"item":1}', calls = { mirror = { status = 200 } } }
end

describe("mirror", function()
  it("sends the mirror cluster the same method, path, headers and body, without waiting", function()
    local result = plugin:request(order())
    assert.equals(1, #result.calls)
    local call = result.calls[1]
    assert.equals("mirror", call.cluster)
    assert.equals("POST", call.method)
    assert.equals("/orders?x=1", call.path)
    assert.equals("application/json", call.headers["content-type"])
    assert.equals("luxy", call.headers["x-mirrored-by"])
    assert.equals('{"item":1}', call.body)
    assert.is_true(call.async)
    assert.equals(200, call.timeout_ms)
  end)

  it("sends the client's request upstream unchanged", function()
    local result = plugin:request(order())
    assert.equals("POST", result.upstream.method)
    assert.equals("/orders?x=1", result.upstream.path)
    assert.equals('{"item":1}', result.upstream.body)
    assert.is_nil(result.upstream.headers["x-mirrored-by"])
    assert.equals(200, result.response.status)
  end)

  it("does not fail the request when the mirror fails or times out", function()
    for _, answer in ipairs({ luxy_test.failure("connection refused"), luxy_test.timeout(), { status = 500 } }) do
      local request = order()
      request.calls = { mirror = answer }
      request.response = { status = 201, body = "created" }
      local result = plugin:request(request)
      assert.equals('{"item":1}', result.upstream.body)
      assert.equals(201, result.response.status)
      assert.equals("created", result.response.body)
      assert.is_nil(result.error)
    end
  end)

  it("mirrors a request without a body with an empty one", function()
    local result = plugin:request({ path = "/health", calls = { mirror = { status = 200 } } })
    assert.equals("GET", result.calls[1].method)
    assert.equals("", result.calls[1].body or "")
  end)

  it("mirrors nothing at 0 percent", function()
    local none = luxy_test.load("mirror", { config = { percent = 0 } })
    local result = none:request({ calls = { mirror = { status = 200 } } })
    assert.equals(0, #result.calls)
    assert.not_nil(result.upstream)
  end)
end)
