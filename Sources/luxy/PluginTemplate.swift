import LuxyConfig

/// The files `luxy new plugin` writes: a commented skeleton and a test that passes. A value.
struct PluginTemplate {
    enum Kind {
        case http, tcp

        var chain: ChainName { self == .http ? .inboundHTTP : .inboundTCP }
    }

    let name: String
    let kind: Kind

    var script: String {
        switch kind {
        case .http: httpScript
        case .tcp: tcpScript
        }
    }

    var test: String {
        switch kind {
        case .http: httpTest
        case .tcp: tcpTest
        }
    }

    /// The chain entry's `config:` block, which the skeleton reads.
    var configLines: [String] {
        switch kind {
        case .http: ["header: x-\(name)", "value: \"on\""]
        case .tcp: ["header: x-\(name)"]
        }
    }

    private var httpScript: String {
        """
        -- \(name): what it does, in one line.
        --
        -- Runs in the \(kind.chain.rawValue) chain (its entry in luxy.yaml sets the priority: higher runs
        -- first on requests, last on responses). `config` is that entry's `config:` block.
        -- Handle API: docs/lua-api.md. Tests: \(name)_test.lua, run with `luxy test`.

        -- Top-level code runs once per event loop when the config loads: read config here.
        local header = config.header or "x-\(name)"
        local value = config.value or "on"

        -- Each request, before it goes upstream. Return to let it go on, or answer it yourself:
        --   h:respond({[":status"] = "403"}, "forbidden\\n")
        -- h:body() and h:httpCall(...) wait without blocking the proxy.
        function on_request(h)
          h:headers():replace(header, value)
        end

        -- Each response, before it goes back to the client. Delete it if you do not need it.
        function on_response(h)
          h:headers():replace(header, value)
        end

        """
    }

    private var httpTest: String {
        """
        -- Tests of \(name).lua; run with `luxy test` (docs/testing-plugins.md).
        local plugin = luxy_test.load("\(name)", { config = { header = "x-\(name)", value = "on" } })

        describe("\(name)", function()
          it("marks the request on its way upstream", function()
            local result = plugin:request({ method = "GET", path = "/" })
            assert.equals("on", result.upstream.headers["x-\(name)"])
          end)

          it("marks the response", function()
            local result = plugin:request({ path = "/", response = { status = 200, body = "hello" } })
            assert.equals(200, result.response.status)
            assert.equals("on", result.response.headers["x-\(name)"])
          end)
        end)

        """
    }

    private var tcpScript: String {
        """
        -- \(name): what it does, in one line.
        --
        -- Runs in the \(kind.chain.rawValue) chain (its entry in luxy.yaml sets the priority). `config` is
        -- that entry's `config:` block. API: docs/lua-api.md#tcp-chains. Tests: \(name)_test.lua,
        -- run with `luxy test`.

        local header = config.header or "x-\(name)"

        -- A client connected (no upstream yet). Return false to refuse the connection.
        function on_connect(conn)
          conn:logInfo("\(name): " .. conn:sourceAddress() .. " -> " .. conn:destinationAddress())
        end

        -- Bytes from the client. Return nil to pass them on, a string to send instead ("" drops
        -- them), or false to hold them and see them again with the next bytes.
        function on_downstream_data(conn, data, end_of_stream)
          return nil
        end

        -- Bytes from the server, the same way.
        function on_upstream_data(conn, data, end_of_stream)
          return nil
        end

        -- The connection is over.
        function on_close(conn)
          conn:logDebug("\(name): closed (" .. header .. ")")
        end

        """
    }

    private var tcpTest: String {
        """
        -- Tests of \(name).lua; run with `luxy test` (docs/testing-plugins.md).
        local plugin = luxy_test.load("\(name)", { config = { header = "x-\(name)" } })

        describe("\(name)", function()
          it("accepts the connection and logs it", function()
            local conn = plugin:connect({ source = "10.0.0.1:40000", destination = "10.0.0.2:9000" })
            assert.is_true(conn.accepted)
            assert.logged(conn, "10%.0%.0%.1:40000 %-> 10%.0%.0%.2:9000")
          end)

          it("passes bytes both ways unchanged", function()
            local conn = plugin:connect()
            assert.equals("ping", conn:from_client("ping"))
            assert.equals("pong", conn:from_server("pong"))
            conn:close()
            assert.is_true(conn.closed)
          end)
        end)

        """
    }
}
