import LuxyTestSupport
import NIOSSL
import XCTest

/// HTTP/2 over TLS: h2 chosen by ALPN on a TLS listener (next to HTTP/1.1), and h2 to an
/// upstream over TLS.
final class HTTP2TLSTests: TLSTestCase {
    private var serverCertificate: String {
        """
              certificates:
                - certificate_chain: \(pki.paths("server-a").certificate)
                  private_key: \(pki.paths("server-a").key)
        """
    }

    private let reporter = LuaPlugin("h2-tls-reporter", """
        function on_request(h)
          h:headers():add("x-seen-protocol", h:streamInfo():protocol())
          h:headers():add("x-seen-ssl", tostring(h:connection():ssl() ~= nil))
        end
        """)

    func testALPNPicksHTTP2OrHTTP11OnOneTLSPort() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: serverCertificate, stages: stagesYAML([reporter])),
                                         plugins: [reporter.name: reporter.source])
        let port = await proxy.port("inbound")
        let client = try await TestHTTP2Client.connect(port: port, group: group, tls: try clientTLS(),
                                                       serverName: "localhost")
        defer { Task { await client.close() } }
        let response = try await client.request("GET", "/over-h2", authority: "localhost")
        XCTAssertEqual(response.status, 200, "\(response)")
        let seen = try XCTUnwrap(upstream.received.last).head.headers
        XCTAssertEqual(seen["x-seen-protocol"], ["HTTP/2"])
        XCTAssertEqual(seen["x-seen-ssl"], ["true"], "an h2 stream sees its connection's TLS")

        let curl = try ExternalTool.find("curl")
        let common = ["-sS", "--max-time", "10", "--cacert", pki.paths("ca").certificate,
                      "--resolve", "localhost:\(port):127.0.0.1", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"]
        let h2 = try await curl.run(common + ["--http2", "https://localhost:\(port)/curl-h2"])
        XCTAssertEqual(h2.stdout, "2 200", h2.stderr)
        let h1 = try await curl.run(common + ["--http1.1", "https://localhost:\(port)/curl-h1"])
        XCTAssertEqual(h1.stdout, "1.1 200", h1.stderr)
        XCTAssertEqual(upstream.received.last?.head.headers["x-seen-protocol"], ["HTTP/1.1"])
    }

    func testHTTP2UpstreamOverTLS() async throws {
        var serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.paths("server-a").certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.paths("server-a").key, format: .pem)))
        serverTLS.minimumTLSVersion = .tlsv12
        let h2Upstream = try await FakeHTTP2Upstream.start(name: "h2-tls", group: group, tls: serverTLS)
        defer { Task { await h2Upstream.stop() } }
        let routes = """
                  - name: grpc
                    match: { prefix: /grpc. }
                    cluster: h2tls
        """
        let clusters = """
          - name: h2tls
            protocol: http2
            endpoints: ["\(h2Upstream.address)"]
            tls: { ca: \(pki.paths("ca").certificate), server_name: localhost, alpn: [h2] }
        """
        let proxy = try await startProxy(tlsConfig(listenerTLS: serverCertificate, routes: routes, clusters: clusters))
        let client = try await TestHTTP2Client.connect(port: await proxy.port("inbound"), group: group,
                                                       tls: try clientTLS(), serverName: "localhost")
        defer { Task { await client.close() } }
        for _ in 0..<3 {
            let response = try await client.request("POST", "/grpc.Echo/Say",
                                                    headers: [("content-type", "application/grpc"), ("te", "trailers")],
                                                    body: "ping")
            XCTAssertEqual(response.status, 200, "\(response)")
            XCTAssertEqual(response.trailers?.first(name: "grpc-status"), "0")
        }
        XCTAssertEqual(h2Upstream.acceptedConnections, 1)
        XCTAssertEqual(h2Upstream.received.first?.head.headers.first(name: "x-forwarded-proto") != nil, true)
    }
}
