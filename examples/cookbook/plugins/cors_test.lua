local plugin = luxy_test.load("cors", { config = { origins = { "https://app.example.com" } } })

describe("cors", function()
  it("answers a preflight from an allowed origin with 204 and never calls the backend", function()
    local result = plugin:request({ method = "OPTIONS", path = "/api", headers = {
      origin = "https://app.example.com", ["access-control-request-method"] = "PUT",
      ["access-control-request-headers"] = "content-type",
    } })
    assert.is_nil(result.upstream)
    assert.equals(204, result.response.status)
    assert.equals("https://app.example.com", result.response.headers["access-control-allow-origin"])
    assert.equals("content-type", result.response.headers["access-control-allow-headers"])
    assert.matches("PUT", result.response.headers["access-control-allow-methods"])
  end)

  it("refuses a preflight from another origin", function()
    local result = plugin:request({ method = "OPTIONS", headers = {
      origin = "https://evil.example", ["access-control-request-method"] = "GET" } })
    assert.equals(403, result.response.status)
  end)

  it("adds the allow-origin header to an allowed origin's response only", function()
    local ok = plugin:request({ headers = { origin = "https://app.example.com" } })
    assert.equals("https://app.example.com", ok.response.headers["access-control-allow-origin"])
    local other = plugin:request({ headers = { origin = "https://evil.example" } })
    assert.is_nil(other.response.headers["access-control-allow-origin"])
    assert.not_nil(other.upstream)
  end)
end)
