-- The recipes together, as luxy.yaml chains them.
local chain = luxy_test.chain("luxy.yaml", "inbound-http")

-- examples/jwt-auth's demo HS256 token: sub alice, groups [readers], iss https://idp.example,
-- aud bookstore, signed with the demo secret, expiring in 2100.
local TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUiLCJhdWQiOiJib29rc3RvcmUiLCJleHAiOjQxMDI0NDQ4MDAsImdyb3VwcyI6WyJyZWFkZXJzIl19.GV_EnvJx1ACZxY7Mc_Vits4YJPi1zGU3cJ6c3GynA9U"

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

describe("the cookbook chain's JWT auth (service bookstore)", function()
  it("lets a valid HS256 token through with its claims in headers", function()
    local result = chain:request({ path = "/books", service = "bookstore",
      headers = { authorization = "Bearer " .. TOKEN, ["x-user"] = "mallory", ["x-groups"] = '["admins"]' } })
    assert.not_nil(result.upstream, result.response.body)
    assert.equals("alice", result.upstream.headers["x-user"])
    assert.equals('["readers"]', result.upstream.headers["x-groups"])
  end)

  it("answers 401 to a token with a changed signature, or none", function()
    local forged = TOKEN:sub(1, -2) .. (TOKEN:sub(-1) == "A" and "B" or "A")
    local result = chain:request({ path = "/books", service = "bookstore", headers = { authorization = "Bearer " .. forged } })
    assert.is_nil(result.upstream)
    assert.equals(401, result.response.status)
    assert.matches('error="invalid_token"', result.response.headers["www-authenticate"])
    assert.equals(401, chain:request({ path = "/books", service = "bookstore" }).response.status)
  end)

  it("does not let a client's own x-groups past require-group without a token", function()
    local result = chain:request({ path = "/books", service = "bookstore", headers = { ["x-groups"] = '["readers"]' } })
    assert.equals(401, result.response.status)
  end)

  it("leaves other services open", function()
    assert.not_nil(chain:request({ path = "/" }).upstream)
  end)
end)

describe("the cookbook tcp chain", function()
  it("refuses ssh", function()
    local conn = luxy_test.chain("luxy.yaml", "inbound-tcp"):connect()
    conn:from_client("SSH-2.0-client\r\n")
    assert.is_true(conn.closed)
  end)
end)
