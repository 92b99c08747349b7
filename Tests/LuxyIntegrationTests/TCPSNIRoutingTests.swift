import LuxyTestSupport
import NIOSSL
import XCTest

/// A tcp listener routing by TLS server name: passed through untouched (the ClientHello is
/// only read), or terminated.
final class TCPSNIRoutingTests: TCPTLSTestCase {
    private func config(a: FakeTCPEchoServer, b: FakeTCPEchoServer, fallback: FakeTCPEchoServer?,
                        listenerTLS: String? = nil) -> String {
        """
        listeners:
          - name: tcp-in
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:0
        \(fallback == nil ? "" : "    cluster: fallback")
            sni_routes:
              - { server_names: [a.test], cluster: a }
              - { server_names: ["*.b.test", b.test], cluster: b }
        \(listenerTLS.map { "    tls:\n" + $0 } ?? "")
        clusters:
          - { name: a, endpoints: ["\(a.address)"] }
          - { name: b, endpoints: ["\(b.address)"] }
        \(fallback.map { "  - { name: fallback, endpoints: [\"\($0.address)\"] }" } ?? "")
        """
    }

    /// Hostnames are not checked: the terminating listener has one certificate for every name.
    private func send(_ text: String, to proxy: TestProxy, serverName: String?) async throws -> TestTCPClient {
        var tls = try clientTLS()
        tls.certificateVerification = .noHostnameVerification
        let client = try await TestTCPClient.connect(port: await proxy.port("tcp-in"), group: group,
                                                     tls: tls, serverName: serverName)
        clients.append(client)
        try await client.send(text)
        return client
    }

    func testPassthroughRoutesByTheClientHelloServerName() async throws {
        let a = try await startEcho(tlsAs: "server-a")
        let b = try await startEcho(tlsAs: "server-b")
        let proxy = try await startProxy(config(a: a, b: b, fallback: nil))

        let toA = try await send("for a\n", to: proxy, serverName: "a.test")
        let reachedA = await toA.wait { $0.receivedText == "for a\n" }
        XCTAssertTrue(reachedA, "the TLS session is end to end with upstream a")
        let toB = try await send("for b\n", to: proxy, serverName: "b.test")
        let reachedB = await toB.wait { $0.receivedText == "for b\n" }
        XCTAssertTrue(reachedB)
        XCTAssertEqual(a.receivedText, "for a\n")
        XCTAssertEqual(b.receivedText, "for b\n")

        // No route and no fallback cluster: the connection is refused, nothing is dialled.
        let lost = try await TestTCPClient.connect(port: await proxy.port("tcp-in"), group: group,
                                                   tls: try clientTLS(), serverName: "c.test")
        clients.append(lost)
        try? await lost.send("nobody\n")
        let closed = await lost.wait { $0.isClosed }
        XCTAssertTrue(closed)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_tcp_no_route"], 1)
        XCTAssertEqual(a.connectionCount + b.connectionCount, 2)
    }

    func testTerminatedTLSRoutesByServerNameWithAFallback() async throws {
        let a = try await startEcho(tlsAs: nil)
        let b = try await startEcho(tlsAs: nil)
        let fallback = try await startEcho(tlsAs: nil)
        let terminate = """
              certificates:
                - certificate_chain: \(pki.paths("server-a").certificate)
                  private_key: \(pki.paths("server-a").key)
        """
        let proxy = try await startProxy(config(a: a, b: b, fallback: fallback, listenerTLS: terminate))
        let toB = try await send("plain to b\n", to: proxy, serverName: "b.test")
        let reachedB = await toB.wait { $0.receivedText == "plain to b\n" }
        XCTAssertTrue(reachedB)
        XCTAssertEqual(b.receivedText, "plain to b\n", "terminated: the upstream gets plain bytes")
        let other = try await send("elsewhere\n", to: proxy, serverName: "localhost")
        let reachedFallback = await other.wait { $0.receivedText == "elsewhere\n" }
        XCTAssertTrue(reachedFallback)
        XCTAssertEqual(fallback.receivedText, "elsewhere\n")
        XCTAssertEqual(a.connectionCount, 0)
    }
}
