-- Tests of add-header.lua: run with `luxy test examples/quickstart`.
local plugin = luxy_test.load("add-header", { config = { greeting = "tests" } })

describe("add-header", function()
  it("adds x-hello with the configured greeting on the way in", function()
    local result = plugin:request({ method = "GET", path = "/echo" })
    assert.equals("tests", result.upstream.headers["x-hello"])
  end)

  it("greets the world when no greeting is configured", function()
    local bare = luxy_test.load("add-header")
    local result = bare:request({ path = "/" })
    assert.equals("world", result.upstream.headers["X-Hello"])
  end)

  it("sets server: luxy on the response", function()
    local result = plugin:request({ path = "/", response = { status = 200, headers = { server = "nginx" } } })
    assert.equals("luxy", result.response.headers.server)
    assert.equals(200, result.response.status)
  end)
end)
