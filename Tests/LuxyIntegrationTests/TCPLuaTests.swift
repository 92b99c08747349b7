import LuxyTestSupport
import NIOCore
import XCTest

/// Lua in the tcp chains: httpCall from a connection, script errors, fail-open, scope.
final class TCPLuaTests: IntegrationTestCase {
    var echo: FakeTCPEchoServer!
    private var clients: [TestTCPClient] = []

    override func setUp() async throws {
        try await super.setUp()
        echo = try await FakeTCPEchoServer.start(group: group)
    }

    override func tearDown() async throws {
        for client in clients { await client.close() }
        await echo.stop()
        try await super.tearDown()
    }

    func start(_ plugins: [LuaPlugin], limits: String = "") async throws -> TestProxy {
        var sources: [String: String] = [:]
        for plugin in plugins { sources[plugin.name] = plugin.source }
        return try await startProxy("""
            workers: 1
            \(limits)
            listeners:
              - name: tcp-in
                direction: outbound
                protocol: tcp
                address: 127.0.0.1:0
                cluster: echo
            clusters:
              - name: echo
                endpoints: ["\(echo.address)"]
              - name: backend
                endpoints: ["\(upstream.address)"]
            chains:
              outbound-tcp:
            \(stagesYAML(plugins))
            """, plugins: sources)
    }

    func client(_ proxy: TestProxy) async throws -> TestTCPClient {
        let client = try await TestTCPClient.connect(port: await proxy.port("tcp-in"), group: group)
        clients.append(client)
        return client
    }

    func testHTTPCallPausesTheDirectionAndReturnsTheResponse() async throws {
        let proxy = try await start([
            LuaPlugin("authz", """
            function on_downstream_data(conn, data)
              local headers, body = conn:httpCall("backend",
                {[":method"] = "POST", [":path"] = "/check", [":authority"] = "authz"}, data, 1000)
              return headers[":status"] .. ":" .. data
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("token-1")
        let answered = await client.wait { $0.receivedText == "200:token-1" }
        XCTAssertTrue(answered, client.receivedText)
        XCTAssertEqual(upstream.received.first?.head.uri, "/check")
        XCTAssertEqual(upstream.received.first?.body, "token-1")
    }

    func testScriptErrorClosesTheConnectionAndLogsFileAndLine() async throws {
        let proxy = try await start([
            LuaPlugin("broken", """
            function on_downstream_data(conn, data)
              error("bad bytes")
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("x")
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        XCTAssertEqual(echo.receivedCount, 0)
        XCTAssertTrue(proxy.logs.contains("plugins/broken.lua:2: bad bytes"), "\(proxy.logs.all.map(\.line))")
    }

    func testAPhaseThatLoopsLeavesTheLoopToOtherConnectionsThenClosesItsOwn() async throws {
        let proxy = try await start([
            LuaPlugin("spinner", """
            function on_downstream_data(conn, data)
              if data:find("loop", 1, true) then
                conn:logInfo("looping")
                while true do end
              end
              return data
            end
            """),
        ], limits: "limits: {lua_instruction_budget: 200000000}")
        let looping = try await client(proxy)
        try await looping.send("loop")
        try await eventually("the plugin to start looping") { proxy.logs.contains("looping") }
        let other = try await client(proxy)
        try await other.send("hello")
        let echoed = await other.wait { $0.receivedText == "hello" }
        XCTAssertTrue(echoed, "another connection on the same loop is served meanwhile: \(other.receivedText)")
        XCTAssertFalse(looping.isClosed, "the looping phase is still running")
        let closed = await looping.wait(timeout: .seconds(60)) { $0.isClosed }
        XCTAssertTrue(closed)
        XCTAssertTrue(proxy.logs.contains("plugins/spinner.lua:4: instruction budget exceeded"), "\(proxy.logs.all.map(\.line))")
        XCTAssertEqual(echo.receivedCount, 5, "only the other connection's bytes reached the upstream")
    }

    func testFailOpenPassesTheBytesOn() async throws {
        let proxy = try await start([
            LuaPlugin("broken", options: ["fail_open: true"], """
            function on_downstream_data(conn, data) error("oops") end
            """),
        ])
        let client = try await client(proxy)
        try await client.send("still here")
        let echoed = await client.wait { $0.receivedText == "still here" }
        XCTAssertTrue(echoed, client.receivedText)
    }

    func testConnKeptPastItsConnectionIsOutOfScope() async throws {
        let proxy = try await start([
            LuaPlugin("keeper", options: ["config: {tag: \"T:\"}"], """
            local previous
            function on_connect(conn)
              if previous then previous:sourceAddress() end
              previous = conn
            end
            function on_downstream_data(conn, data)
              return conn:config().tag .. data
            end
            function on_close(conn) conn:logInfo("closed " .. conn:sourceAddress()) end
            """),
        ])
        let first = try await client(proxy)
        try await first.send("a")
        let echoed = await first.wait { $0.receivedText == "T:a" }
        XCTAssertTrue(echoed, "the conn is valid across the phases of its own connection")
        await first.close()
        let closed = await pollLuaEffect { proxy.logs.contains("closed 127.0.0.1:") }
        XCTAssertTrue(closed, "on_close ran")
        // Connections alternate between the two loops (two VMs): of the next two, the one on
        // the first connection's loop finds its stale conn.
        let second = try await client(proxy)
        try await second.send("b")
        await second.wait { $0.receivedText == "T:b" || $0.isClosed }
        let third = try await client(proxy)
        try? await third.send("c")
        let refused = await pollLuaEffect { second.isClosed || third.isClosed }
        XCTAssertTrue(refused, "an on_connect failed on the stale conn")
        XCTAssertTrue(proxy.logs.contains("object used outside of proper scope"), "\(proxy.logs.all.map(\.line))")
    }
}
