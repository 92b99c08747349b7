import LuxyTestSupport
import NIOSSL
import XCTest

/// TLS tests' shared set-up: a fresh PKI per test (CA `ca`, server certificates for
/// `a.test`/`b.test`/`localhost`, client certificates with SPIFFE URIs) and a config with
/// one TLS listener in front of the fake upstream.
class TLSTestCase: IntegrationTestCase {
    var pki: TestCertificates!

    static let goodIdentity = "spiffe://luxy.test/ns/default/sa/good"
    static let badIdentity = "spiffe://luxy.test/ns/default/sa/bad"

    override func setUp() async throws {
        try await super.setUp()
        pki = try TestCertificates()
        try pki.makeCA()
        try pki.issue("server-a", commonName: "a.test", dnsNames: ["a.test", "localhost"], ips: ["127.0.0.1"])
        try pki.issue("server-b", commonName: "b.test", dnsNames: ["b.test"])
        try pki.issue("client-good", commonName: "good-client", uris: [Self.goodIdentity])
        try pki.issue("client-bad", commonName: "bad-client", uris: [Self.badIdentity])
    }

    override func tearDown() async throws {
        try await super.tearDown()
        pki.remove()
    }

    /// A listener `inbound` with `tls` (YAML lines at the listener's `tls:` indentation),
    /// routing `/` to `backend` and anything in `routes` first.
    func tlsConfig(listenerTLS: String, routes: String = "", clusters: String = "", stages: String = "") -> String {
        """
        workers: 2
        modules_dir: {{modules}}
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            tls:
        \(listenerTLS)
            virtual_hosts:
              - name: local
                domains: ["*"]
                routes:
        \(routes)
                  - name: backend
                    match: { prefix: / }
                    cluster: backend
        clusters:
          - name: backend
            endpoints: ["\(upstream.address)"]
            connect_timeout: 500ms
            request_timeout: 2s
        \(clusters)
        chains:
          inbound-http:
        \(stages.isEmpty ? "    []" : stages)
        """
    }

    /// What a client trusting the test CA uses; HTTP/1.1 by ALPN so the h2 path is not involved.
    func clientTLS(certificate: String? = nil, ca: String = "ca") throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.trustRoots = .file(pki.paths(ca).certificate)
        config.applicationProtocols = ["http/1.1"]
        if let certificate {
            let issued = pki.paths(certificate)
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(issued.certificate).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: issued.key, format: .pem))
        }
        return config
    }

    func connectTLS(_ proxy: TestProxy, serverName: String? = "localhost", certificate: String? = nil)
        async throws -> TestHTTPConnection {
        try await TestHTTPConnection.connectTLS(port: await proxy.port("inbound"), group: group,
                                                configuration: try clientTLS(certificate: certificate),
                                                serverName: serverName)
    }

    func commonName(_ certificate: NIOSSLCertificate?) -> String? {
        certificate?.subjectName.last(where: { $0.type == .commonName })?.value
    }

    /// Waits for a counter (summed over loops) to reach `value`.
    func waitForCounter(_ proxy: TestProxy, _ name: String, atLeast value: Int,
                        timeout: Duration = .seconds(5)) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let count = await proxy.server.counters()[name], count >= value { return count }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await proxy.server.counters()[name] ?? 0
    }
}
