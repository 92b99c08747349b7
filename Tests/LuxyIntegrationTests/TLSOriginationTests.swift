import LuxyTestSupport
import NIOSSL
import XCTest

/// TLS from a cluster to its endpoints, and certificates reloading under a running listener.
final class TLSOriginationTests: TLSTestCase {
    private var tlsUpstreams: [FakeUpstream] = []

    override func tearDown() async throws {
        for upstream in tlsUpstreams { await upstream.stop() }
        try await super.tearDown()
    }

    /// An HTTPS fake upstream with the `server-a` certificate (SANs localhost, 127.0.0.1);
    /// with `clientCA` it requires a client certificate chained to it.
    private func startTLSUpstream(name: String, clientCA: String? = nil) async throws -> FakeUpstream {
        let server = pki.paths("server-a")
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(server.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: server.key, format: .pem)))
        if let clientCA {
            config.trustRoots = .file(pki.paths(clientCA).certificate)
            config.certificateVerification = .noHostnameVerification
        }
        let fake = try await FakeUpstream.start(name: name, group: group, tls: config)
        tlsUpstreams.append(fake)
        return fake
    }

    /// A plain listener routing `/PREFIX` to cluster PREFIX, one per `clusters` entry.
    private func plainConfig(clusters: [(name: String, address: String, tls: String)]) -> String {
        let routes = clusters.map { cluster in
            """
                      - name: \(cluster.name)
                        match: { prefix: /\(cluster.name) }
                        cluster: \(cluster.name)
            """
        }.joined(separator: "\n")
        let clusterYAML = clusters.map { cluster in
            """
              - name: \(cluster.name)
                endpoints: ["\(cluster.address)"]
                connect_timeout: 500ms
                request_timeout: 2s
                tls:
            \(cluster.tls)
            """
        }.joined(separator: "\n")
        return standardConfig(routes: routes, cluster: clusterYAML)
    }

    func testOriginatesTLSWithTheRightCAAndFailsWithAWrongOne() async throws {
        try pki.makeCA("other-ca")
        let secure = try await startTLSUpstream(name: "secure")
        let proxy = try await startProxy(plainConfig(clusters: [
            ("good", secure.address, "      ca: \(pki.paths("ca").certificate)\n      server_name: localhost"),
            ("byip", secure.address, "      ca: \(pki.paths("ca").certificate)"),
            ("wrongca", secure.address, "      ca: \(pki.paths("other-ca").certificate)"),
            ("noverify", secure.address, "      ca: \(pki.paths("other-ca").certificate)\n      verify: false"),
        ]))
        let client = try await connect(proxy)
        let good = try await client.request("GET", "/good/x")
        XCTAssertEqual(good.status, 200, good.body)
        XCTAssertEqual(good.header("x-upstream"), "secure")
        let byIP = try await client.request("GET", "/byip/x")
        XCTAssertEqual(byIP.status, 200, "an IP endpoint is verified against the certificate's IP SAN: \(byIP.body)")
        let wrong = try await client.request("GET", "/wrongca/x")
        XCTAssertEqual(wrong.status, 503)
        XCTAssertTrue(wrong.body.contains("upstream TLS handshake failed"), wrong.body)
        let unverified = try await client.request("GET", "/noverify/x")
        XCTAssertEqual(unverified.status, 200, unverified.body)
        XCTAssertEqual(secure.received.count, 3)
        let failures = await proxy.server.counters()["upstream_tls_handshake_failed"]
        XCTAssertEqual(failures, 1)
    }

    func testMutualTLSToTheUpstream() async throws {
        let strict = try await startTLSUpstream(name: "strict", clientCA: "ca")
        let client = pki.paths("client-good")
        let proxy = try await startProxy(plainConfig(clusters: [
            ("withcert", strict.address, """
                  ca: \(pki.paths("ca").certificate)
                  certificate_chain: \(client.certificate)
                  private_key: \(client.key)
            """),
            ("nocert", strict.address, "      ca: \(pki.paths("ca").certificate)"),
        ]))
        let connection = try await connect(proxy)
        let ok = try await connection.request("GET", "/withcert/x")
        XCTAssertEqual(ok.status, 200, ok.body)
        // Pooled: a second request reuses the TLS connection.
        let second = try await connection.request("GET", "/withcert/y")
        XCTAssertEqual(second.status, 200)
        let refused = try await connection.request("GET", "/nocert/x")
        XCTAssertEqual(refused.status, 503, refused.body)
        XCTAssertTrue(refused.body.contains("upstream TLS handshake failed"), refused.body)
        XCTAssertEqual(strict.received.count, 2)
    }

    func testRotatedCertificatesServeNewConnectionsWithoutDroppingOldOnes() async throws {
        try pki.issue("rotating", commonName: "first", dnsNames: ["localhost"])
        let listenerTLS = """
                  certificates:
                    - certificate_chain: \(pki.paths("rotating").certificate)
                      private_key: \(pki.paths("rotating").key)
            """
        let proxy = try await startProxy(tlsConfig(listenerTLS: listenerTLS))
        let generation = await proxy.server.generation
        let old = try await connectTLS(proxy)
        let oldCertificate = try await old.peerCertificate()
        XCTAssertEqual(commonName(oldCertificate), "first")
        let before = try await old.request("GET", "/before")
        XCTAssertEqual(before.status, 200)

        try pki.issue("rotating", commonName: "second", dnsNames: ["localhost"])
        var seen = "first"
        let deadline = ContinuousClock.now + .seconds(10)
        while seen != "second", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            let fresh = try await connectTLS(proxy)
            seen = commonName(try await fresh.peerCertificate()) ?? ""
            if seen == "second" {
                let response = try await fresh.request("GET", "/fresh")
                XCTAssertEqual(response.status, 200)
            }
            await fresh.close()
        }
        XCTAssertEqual(seen, "second", "a new connection should get the rotated certificate")
        let after = try await old.request("GET", "/after")
        XCTAssertEqual(after.status, 200, "the open connection keeps working")
        let generationAfter = await proxy.server.generation
        XCTAssertEqual(generationAfter, generation, "a certificate change is not a new generation")
    }
}
