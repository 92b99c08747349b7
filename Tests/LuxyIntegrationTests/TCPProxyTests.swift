import LuxyTestSupport
import NIOCore
import NIOPosix
import XCTest

/// The tcp chains end to end: a real echo upstream behind a tcp listener, Lua stages on the
/// bytes each way, refusal, closes, half-close and backpressure.
final class TCPProxyTests: IntegrationTestCase {
    var echo: FakeTCPEchoServer!

    override func setUp() async throws {
        try await super.setUp()
        echo = try await FakeTCPEchoServer.start(group: group)
    }

    override func tearDown() async throws {
        for client in clients { await client.close() }
        await echo.stop()
        try await super.tearDown()
    }

    private var clients: [TestTCPClient] = []

    /// One inbound tcp listener to the echo server, these `inbound-tcp` stages, and the fake
    /// HTTP upstream as cluster `backend` for httpCall.
    func tcpConfig(_ plugins: [LuaPlugin] = [], endpoint: String? = nil, extraEndpoints: [String] = []) -> String {
        let endpoints = ([endpoint ?? echo.address] + extraEndpoints).map { "\"\($0)\"" }.joined(separator: ", ")
        return """
        workers: 2
        listeners:
          - name: tcp-in
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:0
            cluster: echo
        clusters:
          - name: echo
            endpoints: [\(endpoints)]
            connect_timeout: 500ms
          - name: backend
            endpoints: ["\(upstream.address)"]
        chains:
          inbound-tcp:
        \(plugins.isEmpty ? "    []" : stagesYAML(plugins))
        """
    }

    func startTCPProxy(_ plugins: [LuaPlugin] = [], endpoint: String? = nil, extraEndpoints: [String] = []) async throws
        -> TestProxy {
        var sources: [String: String] = [:]
        for plugin in plugins { sources[plugin.name] = plugin.source }
        return try await startProxy(tcpConfig(plugins, endpoint: endpoint, extraEndpoints: extraEndpoints), plugins: sources)
    }

    func client(_ proxy: TestProxy, slowReadInterval: TimeAmount? = nil, checkPattern: Bool = false) async throws
        -> TestTCPClient {
        let client = try await TestTCPClient.connect(port: await proxy.port("tcp-in"), group: group,
                                                     slowReadInterval: slowReadInterval, checkPattern: checkPattern)
        clients.append(client)
        return client
    }

    func testBytesRoundTripThroughTheProxy() async throws {
        let proxy = try await startTCPProxy()
        let client = try await client(proxy)
        try await client.send("hello over tcp\n")
        let echoed = await client.wait { $0.receivedText == "hello over tcp\n" }
        XCTAssertTrue(echoed, client.receivedText)
        XCTAssertEqual(echo.receivedText, "hello over tcp\n")
        try await client.send("and again\n")
        await client.wait { $0.receivedText.hasSuffix("and again\n") }
        XCTAssertEqual(client.receivedText, "hello over tcp\nand again\n")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_tcp_connections"], 1)
    }

    func testAConnectFailureMovesOnToAnotherEndpoint() async throws {
        // Round robin's first pick on each loop is the second endpoint: the refusing one.
        let proxy = try await startTCPProxy(extraEndpoints: ["127.0.0.1:1"])
        let client = try await client(proxy)
        try await client.send("still served\n")
        let echoed = await client.wait { $0.receivedText == "still served\n" }
        XCTAssertTrue(echoed, client.receivedText)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_connect_failover"], 1)
        XCTAssertNil(counters["upstream_connect_failed"])
    }

    func testLuaRewritesBytesBothWays() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("rewrite", """
            function on_connect(conn)
              conn:logInfo("connect " .. conn:sourceAddress() .. " -> " .. conn:destinationAddress()
                .. " cluster=" .. conn:cluster() .. " dir=" .. conn:direction()
                .. " upstream=" .. tostring(conn:upstreamAddress()) .. " peer=" .. tostring(conn:peerIdentity()))
            end
            function on_downstream_data(conn, data, eos)
              conn:logInfo("up " .. conn:upstreamAddress() .. " " .. #data)
              return (data:gsub("ping", "PING"))
            end
            function on_upstream_data(conn, data, eos)
              return (data:gsub("PING", "pong"))
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("ping ping\n")
        let answered = await client.wait { $0.receivedText == "pong pong\n" }
        XCTAssertTrue(answered, client.receivedText)
        XCTAssertEqual(echo.receivedText, "PING PING\n", "the upstream sees the rewrite")
        XCTAssertTrue(proxy.logs.contains("connect 127.0.0.1:"), "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("cluster=echo dir=inbound upstream=nil peer=nil"))
        XCTAssertTrue(proxy.logs.contains("up \(echo.address) 10"))
    }

    func testStagesRunInPriorityOrderDownstreamAndReverseUpstream() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("first", priority: 200, """
            function on_downstream_data(conn, data) return data .. "1" end
            function on_upstream_data(conn, data) return data .. "1" end
            """),
            LuaPlugin("second", priority: 100, """
            function on_downstream_data(conn, data) return data .. "2" end
            function on_upstream_data(conn, data) return data .. "2" end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("x")
        await client.wait { $0.receivedText.count >= 5 }
        XCTAssertEqual(echo.receivedText, "x12")
        XCTAssertEqual(client.receivedText, "x1221")
    }

    func testOnConnectReturningFalseRefusesTheConnection() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("deny", "function on_connect(conn) return false end"),
        ])
        let client = try await client(proxy)
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        XCTAssertEqual(echo.connectionCount, 0, "no upstream connection for a refused client")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_tcp_refused"], 1)
    }

    func testPluginClosesMidStream() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("quit", """
            function on_downstream_data(conn, data)
              if data:find("quit") then conn:close() end
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("hello\n")
        await client.wait { $0.receivedText == "hello\n" }
        try await client.send("quit\n")
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        XCTAssertEqual(client.receivedText, "hello\n")
        XCTAssertEqual(echo.receivedText, "hello\n", "the chunk that closed never reaches the upstream")
    }

    /// A tcp stage's cost is counted per phase, as an HTTP stage's: executions, errors and
    /// the time its resumes ran, in /stats' counters and the stage-time histogram.
    func testEachTCPPhaseIsCountedWithItsTime() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("tcpcost", """
            function on_connect(conn) end
            function on_downstream_data(conn, data)
              local s = 0
              for i = 1, 2000 do s = s + i end
              if data:find("fail") then error("failing on purpose") end
            end
            function on_upstream_data(conn, data) end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("one\n")
        let echoed = await client.wait { $0.receivedText == "one\n" }
        XCTAssertTrue(echoed, client.receivedText)
        try await client.send("fail\n")
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed, "a failing data phase closes the connection")

        var counters: [String: Int] = [:]
        let counted = await waitUntil(timeout: .seconds(5)) {
            counters = await proxy.server.counters()
            return counters["tcpcost.lua.downstream_data.errors"] == 1
        }
        XCTAssertTrue(counted, "\(counters)")
        XCTAssertEqual(counters["tcpcost.lua.connect.executions"], 1, "\(counters)")
        XCTAssertEqual(counters["tcpcost.lua.downstream_data.executions"], 2, "\(counters)")
        XCTAssertEqual(counters["tcpcost.lua.upstream_data.executions"], 1, "\(counters)")
        XCTAssertEqual(counters["tcpcost.lua.errors"], 1, "\(counters)")
        XCTAssertEqual(counters["tcpcost.lua.executions"], 4, "\(counters)")
        XCTAssertGreaterThan(counters["tcpcost.lua.downstream_data.time_ns"] ?? 0, 0, "\(counters)")
        XCTAssertNil(counters["tcpcost.lua.request.executions"], "a tcp stage has no HTTP phases")
    }

    func testHoldUntilALineIsComplete() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("lines", """
            function on_downstream_data(conn, data, eos)
              if not data:find("\\n") and not eos then return false end
              return "[" .. data .. "]"
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("hel")
        try await client.send("lo ")
        try await client.send("world\n")
        let echoed = await client.wait { $0.receivedText == "[hello world\n]" }
        XCTAssertTrue(echoed, client.receivedText)
        XCTAssertEqual(echo.receivedText, "[hello world\n]", "held bytes went up as one chunk")
    }

    func testUpstreamRefusedClosesTheClient() async throws {
        // A port that was just free: nothing listens there.
        let probe = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let deadPort = probe.localAddress!.port!
        try await probe.close()
        let proxy = try await startTCPProxy(endpoint: "127.0.0.1:\(deadPort)")
        let client = try await client(proxy)
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_connect_failed"], 1, "\(counters)")
    }

    func testHalfCloseStillDeliversTheEcho() async throws {
        let proxy = try await startTCPProxy([
            LuaPlugin("tail", """
            function on_downstream_data(conn, data, eos)
              if eos then return data .. "<eof>" end
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("last words")
        try await client.shutdownWrite()
        let ended = await client.wait { $0.isClosed && $0.receivedText == "last words<eof>" }
        XCTAssertTrue(ended, "received \(client.receivedText), closed \(client.isClosed)")
        XCTAssertEqual(echo.halfClosedCount, 1, "the upstream saw a half-close, not a reset")
    }
}
