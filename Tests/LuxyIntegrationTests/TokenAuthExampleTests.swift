import Foundation
import LuxyTestSupport
import XCTest

/// Runs `examples/token-auth`'s plugins as the example wires them: ext-auth, the bookstore's
/// inbound sidecar with the verifier, and the client's outbound sidecar with the injector.
final class TokenAuthExampleTests: IntegrationTestCase {
    private static let token = "Bearer 2f1acc6c3a606b082e5eef5e54414ffb"

    private func plugin(_ name: String) throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return try String(contentsOf: url.appendingPathComponent("examples/token-auth/plugins/\(name).lua"), encoding: .utf8)
    }

    private func listener(_ name: String, _ direction: String, route: String) -> String {
        """
        listeners:
          - name: \(name)
            direction: \(direction)
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - name: vh
                routes:
        \(route)
        """
    }

    func testTokenIsInjectedVerifiedAndRefused() async throws {
        let extAuth = try await startProxy("""
        \(listener("ext-auth", "inbound", route: """
                  - match: { prefix: / }
                    direct_response: { status: 404, body: "nothing" }
                    service: ext-auth
        """))
        chains:
          inbound-http:
            - name: ext-auth
              priority: 100
              services: [ext-auth]
              config: { tokens: [ !secret "\(Self.token)" ] }
        """, plugins: ["ext-auth": try plugin("ext-auth")])
        let extAuthPort = await extAuth.port("ext-auth")

        let bookstore = try await startProxy("""
        \(listener("bookstore-inbound", "inbound", route: """
                  - match: { prefix: / }
                    cluster: bookstore
                    service: bookstore
        """))
        clusters:
          - name: bookstore
            endpoints: ["\(upstream.address)"]
          - name: ext-auth
            endpoints: ["127.0.0.1:\(extAuthPort)"]
        chains:
          inbound-http:
            - name: token-verifier
              priority: 115
              services: [bookstore]
              config: { cluster: ext-auth, timeout_ms: 1000, paths: [/books] }
        """, plugins: ["token-verifier": try plugin("token-verifier")])
        let bookstorePort = await bookstore.port("bookstore-inbound")

        let outbound = try await startProxy("""
        \(listener("app-outbound", "outbound", route: """
                  - match: { prefix: / }
                    cluster: bookstore
                    service: bookstore
        """))
        clusters:
          - name: bookstore
            endpoints: ["127.0.0.1:\(bookstorePort)"]
        chains:
          outbound-http:
            - name: token-injector
              priority: 100
              services: [bookstore]
              config: { token: !secret "\(Self.token)" }
        """, plugins: ["token-injector": try plugin("token-injector")])

        let client = try await connect(outbound, listener: "app-outbound")
        let allowed = try await client.request("GET", "/books")
        XCTAssertEqual(allowed.status, 200, allowed.description)
        let seen = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(seen.head.headers.first(name: "authorization"), Self.token)
        XCTAssertEqual(seen.head.headers.first(name: "x-auth-checked"), "ext-auth")

        let direct = try await connect(bookstore, listener: "bookstore-inbound")
        let missing = try await direct.request("GET", "/books")
        XCTAssertEqual(missing.status, 401)
        let wrong = try await direct.request("GET", "/books", headers: [("authorization", "Bearer nope")])
        XCTAssertEqual(wrong.status, 403)
        let open = try await direct.request("GET", "/health")
        XCTAssertEqual(open.status, 200)
        XCTAssertEqual(upstream.received.count, 2, "refused requests never reach the service")

        // ext-auth down: the verifier answers 503 rather than letting the request through.
        await extAuth.stop()
        let down = try await direct.request("GET", "/books", headers: [("authorization", Self.token)])
        XCTAssertEqual(down.status, 503)
        XCTAssertEqual(upstream.received.count, 2)
    }
}
