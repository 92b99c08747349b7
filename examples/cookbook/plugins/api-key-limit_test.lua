describe("api-key-limit", function()
  local plugin
  before_each(function()   -- a dictionary of its own per test: counts do not carry over
    plugin = luxy_test.load("api-key-limit", { config = { requests = 3, window = 3600, dict = "limit-" .. math.random(1e9) } })
  end)

  local function call(key)
    return plugin:request({ headers = { ["x-api-key"] = key } })
  end

  it("lets N requests of one key through and answers the next with 429 and retry-after", function()
    for _ = 1, 3 do assert.not_nil(call("k1").upstream) end
    local limited = call("k1")
    assert.is_nil(limited.upstream)
    assert.equals(429, limited.response.status)
    local wait = tonumber(limited.response.headers["retry-after"])
    assert.truthy(wait and wait >= 1 and wait <= 3600)
  end)

  it("counts each key on its own", function()
    for _ = 1, 4 do call("k1") end
    assert.equals(429, call("k1").response.status)
    assert.not_nil(call("k2").upstream)
  end)

  it("does not limit requests without a key", function()
    for _ = 1, 5 do assert.not_nil(plugin:request({}).upstream) end
  end)

  it("refuses to load without a limit", function()
    assert.has_error(function() luxy_test.load("api-key-limit", { config = {} }) end, "config.requests is not set")
  end)
end)
