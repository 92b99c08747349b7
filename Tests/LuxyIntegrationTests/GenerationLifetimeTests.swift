import LuxyCore
import LuxyTestSupport
import NIOCore
import XCTest

/// Long-lived connections hold only what they use across reloads: a WebSocket tunnel holds
/// no generation (no Lua VM, no pools), a TCP session holds the VM its stages run on but
/// not the generation or its pools. One loop (`workers: 1`), so the counts are exact.
final class GenerationLifetimeTests: IntegrationTestCase {
    private var ws: FakeWebSocketUpstream!
    private var echo: FakeTCPEchoServer!
    private var clients: [TestTCPClient] = []

    override func setUp() async throws {
        try await super.setUp()
        ws = try await FakeWebSocketUpstream.start(group: group)
        echo = try await FakeTCPEchoServer.start(group: group)
    }

    override func tearDown() async throws {
        for client in clients { await client.close() }
        await ws.stop()
        await echo.stop()
        try await super.tearDown()
    }

    private func tcpClient(port: Int) async throws -> TestTCPClient {
        let client = try await TestTCPClient.connect(port: port, group: group)
        clients.append(client)
        return client
    }

    /// Each version changes the script and the backend cluster's settings, so every reload
    /// builds a new VM and new pools for `backend` (the old pool closes with its last user).
    private func webSocketConfig(version: Int) -> String {
        standardConfig(
            inboundStages: "    - { name: version, priority: 10 }",
            routes: """
                      - name: ws
                        match: { prefix: /ws }
                        cluster: ws
                        upgrades: [websocket]
            """,
            cluster: """
              - name: ws
                endpoints: ["\(ws.address)"]
                connect_timeout: \(500 + version)ms
            """,
            workers: 1)
    }

    private func versionPlugin(_ version: Int) -> String {
        "function envoy_on_response(h) h:headers():replace('x-version', 'v\(version)') end\n"
    }

    func testWebSocketTunnelKeepsNoGenerationAcrossReloads() async throws {
        let proxy = try await startProxy(webSocketConfig(version: 1), plugins: ["version": versionPlugin(1)])
        let baseline = await proxy.server.lifetimes()
        XCTAssertEqual(baseline, GenerationLifetimes(live: 1, inMemory: 1, openStageRuntimes: 1))

        let client = try await tcpClient(port: await proxy.port("inbound"))
        try await client.send("GET /ws/chat HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\n"
            + "connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n")
        let upgraded = await client.wait { $0.receivedText.contains("\r\n\r\n") }
        XCTAssertTrue(upgraded && client.receivedText.hasPrefix("HTTP/1.1 101"), client.receivedText)
        XCTAssertTrue(client.receivedText.lowercased().contains("x-version: v1"), "the handshake ran on generation 1")

        for version in 2...4 {
            try proxy.writePlugin("version", versionPlugin(version))
            try proxy.writeConfig(webSocketConfig(version: version))
            let outcome = try await proxy.runtime.reload()
            XCTAssertEqual(outcome.generation, version)
            try await client.send("frame \(version)\n")
            let echoed = await client.wait { $0.receivedText.hasSuffix("frame \(version)\n") }
            XCTAssertTrue(echoed, "the tunnel carries data after reload \(version): \(client.receivedText)")
        }
        // Nothing of generations 1 to 3 is left: no VM open, no generation object in memory.
        try await eventually("the old generations to go") {
            await proxy.server.lifetimes() == GenerationLifetimes(live: 1, inMemory: 1, openStageRuntimes: 1)
        }
        let lifetimes = await proxy.server.lifetimes()
        XCTAssertEqual(lifetimes, GenerationLifetimes(live: 1, inMemory: 1, openStageRuntimes: 1))
        try await client.send("still here\n")
        let carried = await client.wait { $0.receivedText.hasSuffix("still here\n") }
        XCTAssertTrue(carried, client.receivedText)
        XCTAssertEqual(ws.openConnections, 1, "the tunnel's upstream connection is still open")
    }

    private func tcpConfig(version: Int) -> String {
        """
        workers: 1
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
            request_timeout: \(2000 + version)ms
        chains:
          outbound-tcp:
            - { name: tag, priority: 10 }
        """
    }

    /// Tags each chunk with the script's version, after a side call through `backend`.
    private func tagPlugin(_ version: Int) -> String {
        """
        function on_downstream_data(conn, data)
          local headers = conn:httpCall("backend",
            {[":method"] = "GET", [":path"] = "/side", [":authority"] = "backend"}, "", 1000)
          return "v\(version)/" .. headers[":status"] .. ":" .. data
        end
        """
    }

    func testTCPSessionKeepsItsVMButNotItsGenerationAcrossReloads() async throws {
        let proxy = try await startProxy(tcpConfig(version: 1), plugins: ["tag": tagPlugin(1)])
        let session = try await tcpClient(port: await proxy.port("tcp-in"))
        try await session.send("a")
        let first = await session.wait { $0.receivedText == "v1/200:a" }
        XCTAssertTrue(first, session.receivedText)
        XCTAssertEqual(upstream.openConnections, 1, "the side call's connection idles in generation 1's pool")

        for version in 2...4 {
            try proxy.writePlugin("tag", tagPlugin(version))
            try proxy.writeConfig(tcpConfig(version: version))
            let outcome = try await proxy.runtime.reload()
            XCTAssertEqual(outcome.generation, version)
        }
        // The session keeps generation 1's VM and nothing else of it: its generation is
        // closed and freed, and so are the pools the side call used.
        try await eventually("the old generations to go") {
            await proxy.server.lifetimes() == GenerationLifetimes(live: 1, inMemory: 1, openStageRuntimes: 2)
        }
        let lifetimes = await proxy.server.lifetimes()
        XCTAssertEqual(lifetimes, GenerationLifetimes(live: 1, inMemory: 1, openStageRuntimes: 2))
        try await eventually("generation 1's backend pool to close its connection") { upstream.openConnections == 0 }

        // Its stages still run on generation 1's VM; the side call goes through the clusters
        // that serve now.
        try await session.send("b")
        let second = await session.wait { $0.receivedText == "v1/200:av1/200:b" }
        XCTAssertTrue(second, session.receivedText)
        XCTAssertEqual(upstream.received.count, 2)

        let fresh = try await tcpClient(port: await proxy.port("tcp-in"))
        try await fresh.send("c")
        let current = await fresh.wait { $0.receivedText == "v4/200:c" }
        XCTAssertTrue(current, fresh.receivedText)

        await session.close()
        try await eventually("the session's VM to close with it") {
            await proxy.server.lifetimes().openStageRuntimes == 1
        }
    }
}
