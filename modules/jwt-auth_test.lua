-- jwt-auth verifies a JWT on every request. The tokens are examples/jwt-auth's demo tokens
-- (sub alice, iss https://idp.example, aud bookstore, expiring in 2100).
local HS256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUiLCJhdWQiOiJib29rc3RvcmUiLCJleHAiOjQxMDI0NDQ4MDAsImdyb3VwcyI6WyJyZWFkZXJzIl19.GV_EnvJx1ACZxY7Mc_Vits4YJPi1zGU3cJ6c3GynA9U"
local ES256 = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImRlbW8tZWMifQ.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUiLCJhdWQiOiJib29rc3RvcmUiLCJleHAiOjQxMDI0NDQ4MDAsImdyb3VwcyI6WyJyZWFkZXJzIl19.t-KVB4ec5_41uRFyIHZHJeURnaDgijvgJYABR-oFwgfOAMIePe6H-N1dQquZuMgStnYvcMPYoInrmH-hTLDp0Q"
local JWKS = '{"keys":[{"kty":"EC","crv":"P-256","kid":"demo-ec","use":"sig","x":"LEiTgCefeUVUcxD3sbDb0Qoz6ZTms2Mq3qk8loKlM1U","y":"6zkv2h2KqawjE7c5qgP2jRXdlFn1-UlUElGujDNVU-0"}]}'

local function bearer(token) return { authorization = "Bearer " .. token } end

describe("jwt-auth with HS256", function()
  local jwt = luxy_test.load("jwt-auth", { config = {
    algorithms = { "HS256" }, hs256_secret = "change-me-this-is-the-demo-secret",
    issuer = "https://idp.example", audiences = { "bookstore" }, claims_to_headers = { sub = "x-user" },
  } })

  it("lets a valid token through and copies its claims into headers", function()
    local result = jwt:request({ headers = bearer(HS256) })
    assert.not_nil(result.upstream, result.response.body)
    assert.equals("alice", result.upstream.headers["x-user"])
  end)

  it("drops a client's own x-user", function()
    local result = jwt:request({ headers = { authorization = "Bearer " .. HS256, ["x-user"] = "mallory" } })
    assert.equals("alice", result.upstream.headers["x-user"])
  end)

  it("answers 401 with a Bearer challenge without a token", function()
    local result = jwt:request({})
    assert.is_nil(result.upstream)
    assert.equals(401, result.response.status)
    assert.matches("^Bearer", result.response.headers["www-authenticate"])
  end)

  it("answers 401 to a token whose signature was changed", function()
    local forged = HS256:sub(1, -2) .. (HS256:sub(-1) == "A" and "B" or "A")
    assert.equals(401, jwt:request({ headers = bearer(forged) }).response.status)
  end)

  it("answers 401 to an ES256 token when only HS256 is accepted", function()
    assert.equals(401, jwt:request({ headers = bearer(ES256) }).response.status)
  end)

  it("answers 401 when the issuer is not the configured one", function()
    local strict = luxy_test.load("jwt-auth", { config = {
      algorithms = { "HS256" }, hs256_secret = "change-me-this-is-the-demo-secret", issuer = "https://other.example",
    } })
    assert.equals(401, strict:request({ headers = bearer(HS256) }).response.status)
  end)

  it("refuses to load HS256 without a secret", function()
    assert.has_error(function() luxy_test.load("jwt-auth", { config = { algorithms = { "HS256" } } }) end,
      "hs256_secret is not set")
  end)
end)

describe("jwt-auth with ES256 and a JWKS", function()
  local config = { algorithms = { "ES256" }, jwks_cluster = "idp", issuer = "https://idp.example", audiences = { "bookstore" } }

  it("fetches the key set from the cluster and lets a valid token through", function()
    local jwt = luxy_test.load("jwt-auth", { config = config })
    local result = jwt:request({ headers = bearer(ES256), calls = { idp = { status = 200, body = JWKS } } })
    assert.not_nil(result.upstream, result.response.body)
    assert.equals("idp", result.calls[1].cluster)
    assert.equals("/.well-known/jwks.json", result.calls[1].path)
  end)

  it("answers 401 when the key set cannot be fetched", function()
    local jwt = luxy_test.load("jwt-auth", { config = config })
    local result = jwt:request({ headers = bearer(ES256), calls = { idp = luxy_test.timeout() } })
    assert.equals(401, result.response.status)
  end)
end)
