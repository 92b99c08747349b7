local plugin = luxy_test.load("ip-block", { config = { deny = { "10.0.0.0/8", "192.0.2.7" }, allow = { "10.1.2.3" } } })

describe("ip-block", function()
  it("refuses a client in a denied block", function()
    local result = plugin:request({ source = "10.20.30.40:5555" })
    assert.equals(403, result.response.status)
    assert.logged(result, "refused 10%.20%.30%.40")
  end)

  it("refuses a single denied address, and lets its neighbour in", function()
    assert.equals(403, plugin:request({ source = "192.0.2.7:1" }).response.status)
    assert.not_nil(plugin:request({ source = "192.0.2.8:1" }).upstream)
  end)

  it("lets an allowed address inside a denied block in", function()
    assert.not_nil(plugin:request({ source = "10.1.2.3:1" }).upstream)
  end)

  it("refuses to load with a malformed block", function()
    assert.has_error(function() luxy_test.load("ip-block", { config = { deny = { "10.0.0/8x" } } }) end,
      "not an IPv4 address or CIDR")
  end)
end)
