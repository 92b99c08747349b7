import LuxyTestSupport
import XCTest

/// The TLS handshake of an HTTP listener is bounded by the request header timeout: a client
/// that connects and never sends its ClientHello is closed, and the listener serves on.
final class WaitBoundTLSTests: TLSTestCase {
    func testAClientThatNeverStartsItsTLSHandshakeIsClosedAtTheHeaderTimeout() async throws {
        let listenerTLS = """
              certificates:
                - certificate_chain: \(pki.paths("server-a").certificate)
                  private_key: \(pki.paths("server-a").key)
        """
        let yaml = "limits:\n  request_header_timeout: 300ms\n" + tlsConfig(listenerTLS: listenerTLS)
        let proxy = try await startProxy(yaml)
        let client = try await TestTCPClient.connect(port: await proxy.port("inbound"), group: group)
        let closed = await client.wait(timeout: .seconds(5)) { $0.isClosed }
        XCTAssertTrue(closed, "a silent TLS client must be closed")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_tls_handshake_timeout"], 1)
        await client.close()
        // A real TLS client is still served.
        let tls = try await connectTLS(proxy)
        let response = try await tls.request("GET", "/canary")
        XCTAssertEqual(response.status, 200)
    }
}
