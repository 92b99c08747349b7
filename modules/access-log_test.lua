-- access-log writes one JSON line per request at info level.
local access_log = luxy_test.load("access-log", { config = { fields = { "user-agent", "x-missing" } } })

describe("access-log", function()
  it("logs method, path, status, route, upstream and bytes", function()
    local result = access_log:request({
      method = "POST", path = "/orders?id=1", route = "orders", upstream = "10.0.0.9:8080",
      headers = { ["user-agent"] = "curl/8" },
      response = { status = 201, headers = { ["content-length"] = "42" } },
    })
    assert.equals(1, #result.logs)
    local line = result.logs[1]
    assert.equals("info", line.level)
    assert.matches('^{"method":"POST","path":"/orders%?id=1","status":201,"duration_ms":%d+,', line.message)
    assert.matches('"route":"orders","upstream":"10%.0%.0%.9:8080","bytes":42', line.message)
    assert.matches('"user%-agent":"curl/8","x%-missing":null}$', line.message)
  end)

  it("logs the local reply of a later stage", function()
    -- A chain: access-log first, then a stage that answers 403 itself.
    local result = luxy_test.chain("testdata/access-log-chain.yaml", "inbound-http"):request({ path = "/private" })
    assert.equals(403, result.response.status)
    assert.matches('"status":403', result.logs[1].message)
  end)

  it("escapes quotes and control characters", function()
    local result = access_log:request({ path = '/a"b\\c', headers = { ["user-agent"] = "x\ty" } })
    assert.matches('"path":"/a\\"b\\\\c"', result.logs[1].message)
    assert.matches('"user%-agent":"x\\u0009y"', result.logs[1].message)
  end)
end)
