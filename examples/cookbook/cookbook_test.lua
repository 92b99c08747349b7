-- The recipes together, as luxy.yaml chains them.
local chain = luxy_test.chain("luxy.yaml", "inbound-http")

describe("the cookbook chain", function()
  it("blocks a denied client before any other stage runs", function()
    local result = chain:request({ source = "192.0.2.10:4000", headers = { origin = "https://app.example.com" } })
    assert.equals(403, result.response.status)
    assert.is_nil(result.response.headers["access-control-allow-origin"])
  end)

  it("routes API v2 callers, answers CORS and rewrites the page on the way back", function()
    local result = chain:request({
      headers = { ["x-api-version"] = "2", origin = "https://app.example.com", cookie = "canary=0" },
      response = { headers = { ["content-type"] = "text/html" }, body = "see old.example.com" },
    })
    assert.equals("v2", result.upstream.headers["x-backend"])
    assert.equals("see new.example.com", result.response.body)
    assert.equals("https://app.example.com", result.response.headers["access-control-allow-origin"])
  end)
end)

describe("the cookbook tcp chain", function()
  it("refuses ssh", function()
    local conn = luxy_test.chain("luxy.yaml", "inbound-tcp"):connect()
    conn:from_client("SSH-2.0-client\r\n")
    assert.is_true(conn.closed)
  end)
end)
