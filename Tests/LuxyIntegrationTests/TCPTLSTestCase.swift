import LuxyTestSupport
import NIOSSL
import XCTest

/// TLS tests on tcp listeners: echo upstreams (plain or TLS) and clients, stopped at the end.
class TCPTLSTestCase: TLSTestCase {
    private var echoes: [FakeTCPEchoServer] = []
    var clients: [TestTCPClient] = []

    override func tearDown() async throws {
        for client in clients { await client.close() }
        for echo in echoes { await echo.stop() }
        try await super.tearDown()
    }

    /// An echo upstream, speaking TLS with `certificate` (a name issued in `pki`) when given.
    func startEcho(tlsAs certificate: String? = nil) async throws -> FakeTCPEchoServer {
        var config: TLSConfiguration?
        if let certificate {
            let issued = pki.paths(certificate)
            config = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(issued.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: issued.key, format: .pem)))
        }
        let echo = try await FakeTCPEchoServer.start(group: group, tls: config)
        echoes.append(echo)
        return echo
    }
}
