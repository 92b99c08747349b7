local plugin = luxy_test.load("require-group", { config = { group = "readers" } })

describe("require-group", function()
  it("lets a member of the group through", function()
    local result = plugin:request({ headers = { ["x-groups"] = '["writers","readers"]' } })
    assert.not_nil(result.upstream)
  end)

  it("answers 403 to a user in other groups, or without groups", function()
    assert.equals(403, plugin:request({ headers = { ["x-groups"] = '["writers"]' } }).response.status)
    assert.equals(403, plugin:request({}).response.status)
    assert.equals(403, plugin:request({ headers = { ["x-groups"] = "not json" } }).response.status)
  end)

  it("takes a single group as a string too", function()
    assert.not_nil(plugin:request({ headers = { ["x-groups"] = '"readers"' } }).upstream)
  end)
end)
