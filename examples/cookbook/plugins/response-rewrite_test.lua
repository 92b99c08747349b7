local plugin = luxy_test.load("response-rewrite", { config = { replace = { ["old.example.com"] = "new.example.com" } } })

describe("response-rewrite", function()
  it("rewrites an HTML body and its length", function()
    local result = plugin:request({ response = {
      headers = { ["content-type"] = "text/html; charset=utf-8", ["content-length"] = "38" },
      body = '<a href="https://old.example.com/">x</a>',
    } })
    assert.equals('<a href="https://new.example.com/">x</a>', result.response.body)
    assert.equals(tostring(#result.response.body), result.response.headers["content-length"])
  end)

  it("leaves other content types alone", function()
    local result = plugin:request({ response = { headers = { ["content-type"] = "image/png" }, body = "old.example.com" } })
    assert.equals("old.example.com", result.response.body)
  end)

  it("hides the backend's server headers", function()
    local result = plugin:request({ response = { headers = { server = "Apache", ["x-powered-by"] = "PHP" } } })
    assert.equals("luxy", result.response.headers.server)
    assert.is_nil(result.response.headers["x-powered-by"])
  end)
end)
