local plugin = luxy_test.load("protocol-sniffer", { config = { refuse = { "ssh" } } })

-- The plugin remembers connections by client address: each test gets a port of its own.
local port = 1000
local function connect()
  port = port + 1
  return plugin:connect({ source = "192.0.2.1:" .. port })
end

describe("protocol-sniffer", function()
  it("recognizes HTTP/1 and passes it on", function()
    local conn = connect()
    assert.equals("GET / HTTP/1.1\r\nhost: x\r\n\r\n", conn:from_client("GET / HTTP/1.1\r\nhost: x\r\n\r\n"))
    assert.logged(conn, "protocol http1")
  end)

  it("recognizes a TLS ClientHello", function()
    local conn = connect()
    conn:from_client("\22\3\1\0\200")
    assert.logged(conn, "protocol tls")
  end)

  it("holds a first fragment until it can tell, then hands it all on", function()
    local conn = connect()
    assert.equals("", conn:from_client("GE"))
    assert.equals("GET /x HTTP/1.0\r\n", conn:from_client("T /x HTTP/1.0\r\n"))
    assert.equals("GET /x HTTP/1.0\r\n", conn.to_server)
  end)

  it("closes a refused protocol before anything reaches the server", function()
    local conn = plugin:connect({ source = "203.0.113.9:2222" })
    assert.equals("", conn:from_client("SSH-2.0-OpenSSH_9.6\r\n"))
    assert.is_true(conn.closed)
    assert.equals("protocol-sniffer", conn.closed_by)
    assert.equals("", conn.to_server)
  end)

  it("names what it cannot tell unknown at the end of the stream", function()
    local conn = connect()
    assert.equals("hi", conn:from_client("hi", true))
    assert.logged(conn, "protocol unknown")
  end)
end)

describe("protocol-sniffer's memory", function()
  it("sniffs only the first bytes of a connection, and forgets it when it closes", function()
    local conn = plugin:connect({ source = "198.51.100.1:1000" })
    conn:from_client("GET / HTTP/1.1\r\n")
    assert.equals("SSH-looking later bytes pass", conn:from_client("SSH-looking later bytes pass"))
    assert.is_false(conn.closed)
    conn:close()
    local again = plugin:connect({ source = "198.51.100.1:1000" })
    again:from_client("SSH-2.0-x\r\n")
    assert.is_true(again.closed)
  end)
end)
