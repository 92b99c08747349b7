import LuxyTestSupport
import NIOCore
import XCTest

/// HTTP/1.1 `Upgrade: websocket` through a listener: the handshake goes through the chain,
/// a 101 turns both connections into a byte tunnel, anything else stays HTTP; `h2c` upgrades
/// are served as plain HTTP/1.1.
final class WebSocketTests: IntegrationTestCase {
    var ws: FakeWebSocketUpstream!
    private var clients: [TestTCPClient] = []

    /// RFC 6455 §1.3's example key and the accept value it must give.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    override func setUp() async throws {
        try await super.setUp()
        ws = try await FakeWebSocketUpstream.start(group: group)
    }

    override func tearDown() async throws {
        for client in clients { await client.close() }
        await ws.stop()
        try await super.tearDown()
    }

    /// `/ws…` goes to the WebSocket upstream, the rest to the fake HTTP upstream.
    func startWebSocketProxy(_ plugins: [LuaPlugin] = []) async throws -> TestProxy {
        let yaml = standardConfig(
            inboundStages: stagesYAML(plugins),
            routes: """
                      - name: ws
                        match: { prefix: /ws }
                        cluster: ws
                        upgrades: [websocket]
            """,
            cluster: """
              - name: ws
                endpoints: ["\(ws.address)"]
                connect_timeout: 500ms
                request_timeout: 2s
            """)
        var sources: [String: String] = [:]
        for plugin in plugins { sources[plugin.name] = plugin.source }
        return try await startProxy(yaml, plugins: sources)
    }

    func client(_ proxy: TestProxy) async throws -> TestTCPClient {
        let client = try await TestTCPClient.connect(port: await proxy.port("inbound"), group: group)
        clients.append(client)
        return client
    }

    func handshake(path: String = "/ws/chat", extra: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nhost: localhost\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            + "sec-websocket-key: \(Self.key)\r\nsec-websocket-version: 13\r\n\r\n" + extra
    }

    /// The response head the client got (status and lowercased header names) and what follows it.
    func responseHead(_ client: TestTCPClient) async -> (status: Int, headers: [String: String], rest: String)? {
        guard await client.wait(until: { $0.receivedText.contains("\r\n\r\n") }) else { return nil }
        let text = client.receivedText
        let end = text.range(of: "\r\n\r\n")!
        var lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
        let status = Int(lines.removeFirst().split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers, String(text[end.upperBound...]))
    }

    func testAcceptValueFollowsRFC6455() {
        XCTAssertEqual(SHA1.webSocketAccept(key: Self.key), Self.accept)
    }

    func testHandshakePassesThroughTheChainAndBytesEchoBothWays() async throws {
        let proxy = try await startWebSocketProxy([
            LuaPlugin("observe", """
            function envoy_on_request(h)
              h:logInfo("upgrade=" .. tostring(h:headers():get("upgrade"))
                .. " connection=" .. tostring(h:headers():get("connection")))
              h:headers():add("x-lua", "saw-upgrade")
            end
            function envoy_on_response(h)
              h:headers():add("x-lua-status", h:headers():get(":status"))
            end
            """),
        ])
        let client = try await client(proxy)
        try await client.send(handshake())
        let received = await responseHead(client)
        let head = try XCTUnwrap(received, client.receivedText)
        XCTAssertEqual(head.status, 101, client.receivedText)
        XCTAssertEqual(head.headers["sec-websocket-accept"], Self.accept)
        XCTAssertEqual(head.headers["upgrade"]?.lowercased(), "websocket")
        XCTAssertEqual(head.headers["connection"]?.lowercased(), "upgrade")
        XCTAssertEqual(head.headers["x-lua-status"], "101", "response stages ran on the 101")
        XCTAssertNil(head.headers["content-length"])
        XCTAssertNil(head.headers["transfer-encoding"])

        let request = try XCTUnwrap(ws.requests.first)
        XCTAssertEqual(request.line, "GET /ws/chat HTTP/1.1")
        XCTAssertEqual(request.header("upgrade"), "websocket")
        XCTAssertEqual(request.header("connection")?.lowercased(), "upgrade")
        XCTAssertEqual(request.header("sec-websocket-key"), Self.key)
        XCTAssertEqual(request.header("x-lua"), "saw-upgrade")
        XCTAssertTrue(proxy.logs.contains("upgrade=websocket connection=Upgrade"), "\(proxy.logs.all.map(\.line))")

        try await client.send("ping 1\n")
        let echoed = await client.wait { $0.receivedText.hasSuffix("\r\n\r\nping 1\n") }
        XCTAssertTrue(echoed, client.receivedText)
        // Not HTTP any more: bytes that would be a malformed request pass untouched.
        let raw = "\u{1}\u{2}GET / HTTP/9.9\r\n\r\n\u{7f}"
        try await client.send(raw)
        let rawEchoed = await client.wait { $0.receivedText.hasSuffix("ping 1\n" + raw) }
        XCTAssertTrue(rawEchoed, client.receivedText)
        XCTAssertEqual(ws.tunnelledText, "ping 1\n" + raw)
        XCTAssertEqual(ws.requests.count, 1)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["websocket_upgrades"], 1)

        // The client leaves: the upstream connection closes too, and is not pooled.
        await client.close()
        let upstreamClosed = await pollLuaEffect { self.ws.openConnections == 0 && self.ws.closedConnections == 1 }
        XCTAssertTrue(upstreamClosed, "open \(ws.openConnections), closed \(ws.closedConnections)")
    }

    func testBytesRightBehindTheHandshakeAndThe101AreKept() async throws {
        let proxy = try await startWebSocketProxy()
        let client = try await client(proxy)
        // A client that does not wait for the 101, an upstream that talks at once after it.
        try await client.send(handshake(path: "/ws/greet", extra: "early bytes\n"))
        let both = await client.wait {
            $0.receivedText.contains("hello from upstream\n") && $0.receivedText.contains("early bytes\n")
        }
        XCTAssertTrue(both, client.receivedText)
        let received = await responseHead(client)
        let head = try XCTUnwrap(received)
        XCTAssertEqual(head.status, 101)
        XCTAssertTrue(head.rest.hasPrefix("hello from upstream\n"), head.rest)
        XCTAssertEqual(ws.tunnelledText, "early bytes\n")
    }

    func testClientHalfCloseReachesTheUpstreamAndTheEchoStillComesBack() async throws {
        let proxy = try await startWebSocketProxy()
        let client = try await client(proxy)
        try await client.send(handshake())
        let head = await responseHead(client)
        XCTAssertEqual(head?.status, 101)
        try await client.send("last words\n")
        try await client.shutdownWrite()
        let done = await client.wait { $0.receivedText.hasSuffix("last words\n") && $0.isClosed }
        XCTAssertTrue(done, client.receivedText)
        let upstreamClosed = await pollLuaEffect { self.ws.openConnections == 0 }
        XCTAssertTrue(upstreamClosed)
    }

    func testUpstreamAnswering200IsAnOrdinaryResponse() async throws {
        let proxy = try await startWebSocketProxy()
        let connection = try await connect(proxy)
        try await connection.send(handshake(path: "/ws/refuse"))
        let response = try await connection.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, "no upgrade here\n")
        XCTAssertEqual(response.header("x-upgrade-seen"), "websocket", "the upgrade was asked for")
        XCTAssertNil(response.header("upgrade"))
        // NIO's decoder reads nothing after an upgrade request: that was the connection's last.
        XCTAssertEqual(response.header("connection"), "close")
        let closed = await connection.waitForClose()
        XCTAssertTrue(closed)
        let counters = await proxy.server.counters()
        XCTAssertNil(counters["websocket_upgrades"])
    }

    func testH2CUpgradeIsServedAsPlainHTTP11() async throws {
        let proxy = try await startWebSocketProxy()
        let connection = try await connect(proxy)
        try await connection.send("GET /plain HTTP/1.1\r\nhost: localhost\r\nconnection: Upgrade, HTTP2-Settings\r\n"
            + "upgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
        let response = try await connection.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("x-upstream"), "backend")
        XCTAssertNil(response.header("upgrade"))
        let request = try onlyRequest(upstream)
        XCTAssertNil(request.head.headers.first(name: "upgrade"), "the upgrade is not forwarded")
        XCTAssertNil(request.head.headers.first(name: "http2-settings"), "nor what Connection names")
        XCTAssertNil(request.head.headers.first(name: "connection"))
        XCTAssertEqual(response.header("connection"), "close")
    }

    func testWebSocketOnARouteWithoutUpgradesIsRefusedWith403() async throws {
        // `/chat` takes the standard backend route, which lists no `upgrades:`.
        let proxy = try await startWebSocketProxy()
        let connection = try await connect(proxy)
        try await connection.send(handshake(path: "/chat"))
        let response = try await connection.readResponse()
        XCTAssertEqual(response.status, 403, "\(response)")
        let closed = await connection.waitForClose()
        XCTAssertTrue(closed, "an upgrade request is the connection's last")
        XCTAssertEqual(upstream.received.count, 0, "the refused upgrade must not reach the upstream")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_upgrade_refused"], 1)
        XCTAssertNil(counters["websocket_upgrades"])
    }
}
