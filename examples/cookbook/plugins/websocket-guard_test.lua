local plugin = luxy_test.load("websocket-guard", {
  config = { protocols = { "chat.v2", "chat.v1" }, origins = { "https://app.example.com" } },
})

local function upgrade(extra)
  local headers = { upgrade = "websocket", connection = "Upgrade", ["sec-websocket-key"] = "dGhlIHNhbXBsZSBub25jZQ==",
                    ["sec-websocket-version"] = "13", origin = "https://app.example.com" }
  for k, v in pairs(extra or {}) do headers[k] = v end
  return headers
end

describe("websocket-guard", function()
  it("picks the first supported subprotocol and logs the 101", function()
    local result = plugin:request({ path = "/chat", headers = upgrade({ ["sec-websocket-protocol"] = "chat.v3, chat.v2" }),
      response = { status = 101, headers = { upgrade = "websocket", connection = "Upgrade" } } })
    assert.equals("chat.v2", result.upstream.headers["sec-websocket-protocol"])
    assert.equals("1", result.upstream.headers["x-websocket"])
    assert.equals(101, result.response.status)
    assert.logged(result, "websocket open: chat%.v2")
  end)

  it("refuses an upgrade without a supported subprotocol", function()
    local result = plugin:request({ headers = upgrade({ ["sec-websocket-protocol"] = "mqtt" }) })
    assert.equals(400, result.response.status)
    assert.is_nil(result.upstream)
  end)

  it("refuses an upgrade from another origin", function()
    local result = plugin:request({ headers = upgrade({ origin = "https://evil.example", ["sec-websocket-protocol"] = "chat.v1" }) })
    assert.equals(403, result.response.status)
  end)

  it("lets plain requests through untouched", function()
    local result = plugin:request({ path = "/index.html" })
    assert.is_nil(result.upstream.headers["x-websocket"])
    assert.equals(0, #result.logs)
  end)
end)
