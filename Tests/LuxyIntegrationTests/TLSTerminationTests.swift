import LuxyTestSupport
import NIOSSL
import XCTest

/// TLS on a listener, over real sockets: termination, SNI, mTLS and what Lua sees of it.
final class TLSTerminationTests: TLSTestCase {
    private var twoCertificates: String {
        """
              certificates:
                - certificate_chain: \(pki.paths("server-a").certificate)
                  private_key: \(pki.paths("server-a").key)
                  server_names: [a.test, localhost]
                - certificate_chain: \(pki.paths("server-b").certificate)
                  private_key: \(pki.paths("server-b").key)
                  server_names: ["*.b.test", b.test]
        """
    }

    private let reporter = LuaPlugin("tls-reporter", """
        function on_request(h)
          local ssl = h:connection():ssl()
          if ssl == nil then
            h:headers():add("x-ssl", "none")
            return
          end
          local hs = h:headers()
          hs:add("x-ssl", "yes")
          hs:add("x-tls-version", ssl:tlsVersion())
          hs:add("x-presented", tostring(ssl:peerCertificatePresented()))
          hs:add("x-validated", tostring(ssl:peerCertificateValidated()))
          hs:add("x-sni", h:streamInfo():requestedServerName())
          hs:add("x-same-object", tostring(h:streamInfo():downstreamSslConnection():sni() == ssl:sni()))
          local uris = ssl:uriSanPeerCertificate()
          hs:add("x-peer-uri", tostring(uris[1]))
          hs:add("x-peer-uri-count", tostring(#uris))
          hs:add("x-peer-dns-count", tostring(#ssl:dnsSansPeerCertificate()))
          hs:add("x-peer-subject", ssl:subjectPeerCertificate())
          hs:add("x-peer-digest", ssl:sha256PeerCertificateDigest())
        end
        """)

    func testTerminatesTLSAndForwardsToThePlainUpstream() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: twoCertificates, stages: stagesYAML([reporter])),
                                         plugins: [reporter.name: reporter.source])
        let client = try await connectTLS(proxy, serverName: "a.test")
        let response = try await client.request("GET", "/hello", host: "a.test")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(response.header("x-upstream"), "backend")
        let version = try await client.tlsVersion()
        XCTAssertEqual(version, .tlsv13)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-ssl"], ["yes"])
        XCTAssertEqual(seen["x-tls-version"], ["TLSv1.3"])
        XCTAssertEqual(seen["x-sni"], ["a.test"])
        XCTAssertEqual(seen["x-same-object"], ["true"])
        XCTAssertEqual(seen["x-presented"], ["false"])
        XCTAssertEqual(seen["x-peer-uri"], ["nil"])
        // The same connection carries a second request (keep-alive over TLS).
        let again = try await client.request("GET", "/again", host: "a.test")
        XCTAssertEqual(again.status, 200)
        await client.close()
    }

    func testSNIPicksTheCertificateAndTheFirstIsTheDefault() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: twoCertificates))
        for (sni, expected) in [("b.test", "b.test"), ("a.test", "a.test"), ("x.b.test", "b.test")] {
            var config = try clientTLS()
            config.certificateVerification = .noHostnameVerification
            let client = try await TestHTTPConnection.connectTLS(port: await proxy.port("inbound"), group: group,
                                                                 configuration: config, serverName: sni)
            let certificate = try await client.peerCertificate()
            XCTAssertEqual(commonName(certificate), expected, "SNI \(sni)")
            let response = try await client.request("GET", "/", host: sni)
            XCTAssertEqual(response.status, 200)
            await client.close()
        }
        // No SNI at all, and an unknown name: the first certificate.
        var config = try clientTLS()
        config.certificateVerification = .noHostnameVerification
        for sni in [nil, "unknown.test"] as [String?] {
            let client = try await TestHTTPConnection.connectTLS(port: await proxy.port("inbound"), group: group,
                                                                 configuration: config, serverName: sni)
            let certificate = try await client.peerCertificate()
            XCTAssertEqual(commonName(certificate), "a.test", "SNI \(sni ?? "none")")
            await client.close()
        }
    }

    func testPlainConnectionsHaveNoSSLObject() async throws {
        let proxy = try await startLuaProxy([reporter])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/plain")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-ssl"], ["none"])
    }

    func testMinimumVersionRefusesOlderClients() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: twoCertificates + "\n      min_version: \"1.3\""))
        var config = try clientTLS()
        config.maximumTLSVersion = .tlsv12
        do {
            let client = try await TestHTTPConnection.connectTLS(port: await proxy.port("inbound"), group: group,
                                                                 configuration: config)
            await client.close()
            XCTFail("a TLS 1.2 client got through a min_version 1.3 listener")
        } catch {}
        let failed = await waitForCounter(proxy, "downstream_tls_handshake_failed", atLeast: 1)
        XCTAssertGreaterThanOrEqual(failed, 1)
        XCTAssertTrue(proxy.logs.contains("downstream TLS handshake failed"))
    }

    func testUnreadableCertificateFailsTheInstallNamingTheFile() async throws {
        let missing = pki.directory + "/missing.crt"
        let broken = """
                  certificates:
                    - certificate_chain: \(missing)
                      private_key: \(pki.paths("server-a").key)
            """
        do {
            _ = try await startProxy(tlsConfig(listenerTLS: broken))
            XCTFail("a listener with a missing certificate file started")
        } catch {
            XCTAssertTrue("\(error)".contains(missing), "\(error)")
        }
    }

    // MARK: mTLS

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

    func testMutualTLSRequiresAClientCertificate() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: mutualTLS))
        // With TLS 1.3 the client may finish its side before the server refuses: then the
        // first request finds the connection closed instead.
        do {
            let client = try await connectTLS(proxy)
            let response = try? await client.request("GET", "/secret")
            XCTAssertNil(response, "a client without a certificate got an answer")
            await client.close()
        } catch {}
        let failed = await waitForCounter(proxy, "downstream_tls_handshake_failed", atLeast: 1)
        XCTAssertGreaterThanOrEqual(failed, 1)
        XCTAssertTrue(upstream.received.isEmpty)
    }

    func testAllowedIdentityPassesAndLuaSeesIt() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: mutualTLS, stages: stagesYAML([reporter])),
                                         plugins: [reporter.name: reporter.source])
        let client = try await connectTLS(proxy, certificate: "client-good")
        let response = try await client.request("GET", "/secret")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-peer-uri"], [Self.goodIdentity])
        XCTAssertEqual(seen["x-peer-uri-count"], ["1"])
        XCTAssertEqual(seen["x-peer-dns-count"], ["0"])
        XCTAssertEqual(seen["x-presented"], ["true"])
        XCTAssertEqual(seen["x-validated"], ["true"])
        XCTAssertEqual(seen["x-peer-subject"], ["CN=good-client,O=Luxy Tests"])
        XCTAssertEqual(seen["x-peer-digest"], [try pki.sha256Fingerprint("client-good")])
    }

    func testIdentityNotAllowedGets403AndNothingUpstream() async throws {
        let proxy = try await startProxy(tlsConfig(listenerTLS: mutualTLS))
        let client = try await connectTLS(proxy, certificate: "client-bad")
        let response = try await client.request("GET", "/secret")
        XCTAssertEqual(response.status, 403, response.body)
        XCTAssertTrue(upstream.received.isEmpty, "a refused peer reached the upstream")
        let refused = await proxy.server.counters()["downstream_tls_identity_refused"]
        XCTAssertEqual(refused, 1)
    }

    func testOptionalClientCertificateLetsAnonymousPeersIn() async throws {
        let optional = """
                  certificates:
                    - certificate_chain: \(pki.paths("server-a").certificate)
                      private_key: \(pki.paths("server-a").key)
                  client_ca: \(pki.paths("ca").certificate)
                  client_certificate: optional
            """
        let proxy = try await startProxy(tlsConfig(listenerTLS: optional, stages: stagesYAML([reporter])),
                                         plugins: [reporter.name: reporter.source])
        let anonymous = try await connectTLS(proxy)
        let anonymousResponse = try await anonymous.request("GET", "/anon")
        XCTAssertEqual(anonymousResponse.status, 200)
        let identified = try await connectTLS(proxy, certificate: "client-good")
        let identifiedResponse = try await identified.request("GET", "/known")
        XCTAssertEqual(identifiedResponse.status, 200)
        let seen = upstream.received.map { $0.head.headers["x-presented"].first ?? "" }
        XCTAssertEqual(seen, ["false", "true"])
    }
}
