import LuxyTestSupport
import NIOSSL
import XCTest

/// TLS on tcp listeners: termination with mTLS (the peer's identity reaches Lua, a refused
/// peer never reaches the upstream) and origination to a TLS upstream.
final class TCPTLSTests: TCPTLSTestCase {
    /// A tcp listener `tcp-in` to cluster `echo`; `listenerTLS` / `clusterTLS` are YAML lines
    /// at their `tls:` indentation.
    private func tcpConfig(echo: FakeTCPEchoServer, listenerTLS: String? = nil, clusterTLS: String? = nil,
                           plugins: [LuaPlugin] = []) -> String {
        """
        workers: 2
        listeners:
          - name: tcp-in
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:0
            cluster: echo
        \(listenerTLS.map { "    tls:\n" + $0 } ?? "")
        clusters:
          - name: echo
            endpoints: ["\(echo.address)"]
            connect_timeout: 500ms
        \(clusterTLS.map { "    tls:\n" + $0 } ?? "")
        chains:
          inbound-tcp:
        \(plugins.isEmpty ? "    []" : stagesYAML(plugins))
        """
    }

    private var mutualTLS: String {
        """
              certificates:
                - certificate_chain: \(pki.paths("server-a").certificate)
                  private_key: \(pki.paths("server-a").key)
              client_ca: \(pki.paths("ca").certificate)
              client_certificate: required
              allowed_identities: ["\(Self.goodIdentity)"]
        """
    }

    private func client(_ proxy: TestProxy, tls: TLSConfiguration? = nil) async throws -> TestTCPClient {
        let client = try await TestTCPClient.connect(port: await proxy.port("tcp-in"), group: group, tls: tls,
                                                     serverName: tls == nil ? nil : "localhost")
        clients.append(client)
        return client
    }

    private let identityPlugin = LuaPlugin("identity", """
    function on_connect(conn)
      conn:logInfo("lua-peer=" .. tostring(conn:peerIdentity()))
    end
    function on_downstream_data(conn, data, end_of_stream)
      if data == "" then return end
      return "[" .. tostring(conn:peerIdentity()) .. "] " .. data
    end
    """)

    func testMutualTLSClientReachesTheUpstreamAndLuaSeesItsIdentity() async throws {
        let echo = try await startEcho()
        let proxy = try await startProxy(tcpConfig(echo: echo, listenerTLS: mutualTLS, plugins: [identityPlugin]),
                                         plugins: [identityPlugin.name: identityPlugin.source])
        let client = try await client(proxy, tls: try clientTLS(certificate: "client-good"))
        try await client.send("hello over tls\n")
        let expected = "[\(Self.goodIdentity)] hello over tls\n"
        let echoed = await client.wait { $0.receivedText == expected }
        XCTAssertTrue(echoed, client.receivedText)
        XCTAssertEqual(echo.receivedText, expected, "the upstream gets plain bytes")
        XCTAssertTrue(proxy.logs.contains("lua-peer=\(Self.goodIdentity)"), "\(proxy.logs.all.map(\.line))")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_tcp_connections"], 1)
        XCTAssertEqual(counters["downstream_tls_handshakes"], 1)
    }

    func testRefusedPeerNeverReachesTheUpstreamNorTheStages() async throws {
        let echo = try await startEcho()
        let proxy = try await startProxy(tcpConfig(echo: echo, listenerTLS: mutualTLS, plugins: [identityPlugin]),
                                         plugins: [identityPlugin.name: identityPlugin.source])
        let client = try await client(proxy, tls: try clientTLS(certificate: "client-bad"))
        try? await client.send("let me in\n")
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        XCTAssertEqual(client.receivedText, "")
        let refused = await waitForCounter(proxy, "downstream_tls_identity_refused", atLeast: 1)
        XCTAssertEqual(refused, 1)
        // Give a wrongly started connect the time to show.
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(echo.connectionCount, 0, "no upstream connection for a refused peer")
        XCTAssertFalse(proxy.logs.contains("lua-peer="), "on_connect never ran")
        let counters = await proxy.server.counters()
        XCTAssertNil(counters["downstream_tcp_connections"])
    }

    func testPlainClientOnATLSListenerNeverReachesTheUpstream() async throws {
        let echo = try await startEcho()
        let proxy = try await startProxy(tcpConfig(echo: echo, listenerTLS: mutualTLS))
        let client = try await client(proxy)
        try await client.send("GET / HTTP/1.1\r\n\r\n")
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        let failed = await waitForCounter(proxy, "downstream_tls_handshake_failed", atLeast: 1)
        XCTAssertEqual(failed, 1)
        XCTAssertEqual(echo.connectionCount, 0)
    }

    func testOriginatesTLSToTheUpstream() async throws {
        let echo = try await startEcho(tlsAs: "server-a")
        let proxy = try await startProxy(tcpConfig(echo: echo, clusterTLS: """
                  ca: \(pki.paths("ca").certificate)
                  server_name: localhost
            """))
        let client = try await client(proxy)
        try await client.send("encrypted on the way out\n")
        let echoed = await client.wait { $0.receivedText == "encrypted on the way out\n" }
        XCTAssertTrue(echoed, client.receivedText)
        XCTAssertEqual(echo.receivedText, "encrypted on the way out\n")
        // Half-close passes through TLS too: the echo ends, and so does the client.
        try await client.shutdownWrite()
        let ended = await client.wait { $0.isClosed }
        XCTAssertTrue(ended)
    }

    func testTLSInAndOut() async throws {
        let echo = try await startEcho(tlsAs: "server-a")
        let proxy = try await startProxy(tcpConfig(echo: echo, listenerTLS: mutualTLS, clusterTLS: """
                  ca: \(pki.paths("ca").certificate)
            """))
        let client = try await client(proxy, tls: try clientTLS(certificate: "client-good"))
        try await client.send("both ways\n")
        let echoed = await client.wait { $0.receivedText == "both ways\n" }
        XCTAssertTrue(echoed, client.receivedText)
        // A TLS half-close (close_notify) reaches the TLS upstream as one, and the end comes back.
        try await client.send("and the last\n")
        try await client.shutdownWrite()
        let ended = await client.wait { $0.isClosed }
        XCTAssertTrue(ended)
        XCTAssertEqual(client.receivedText, "both ways\nand the last\n")
        XCTAssertEqual(echo.halfClosedCount, 1)
    }

    func testUpstreamWithTheWrongCAClosesTheClient() async throws {
        try pki.makeCA("other-ca")
        let echo = try await startEcho(tlsAs: "server-a")
        let proxy = try await startProxy(tcpConfig(echo: echo, clusterTLS: """
                  ca: \(pki.paths("other-ca").certificate)
                  server_name: localhost
            """))
        let client = try await client(proxy)
        try await client.send("nobody hears this\n")
        let closed = await client.wait { $0.isClosed }
        XCTAssertTrue(closed)
        XCTAssertEqual(echo.receivedText, "")
        let failed = await waitForCounter(proxy, "upstream_tls_handshake_failed", atLeast: 1)
        XCTAssertEqual(failed, 1)
    }
}
