import LuxyTestSupport
import NIOHTTP1
import XCTest

/// Hostile HTTP/1.1 and HTTP/2 requests against one running proxy: each must get its 4xx/5xx,
/// the upstream must receive zero bytes from it, and a canary request after it must still be
/// answered by the same proxy. Vectors are grouped by class; each group is one test.
final class HostileRequestTests: IntegrationTestCase {
    /// One raw HTTP/1.1 request and the status it must get.
    struct Vector {
        var name: String
        var raw: String
        var status: Int
    }

    private var proxy: TestProxy!

    override func setUp() async throws {
        try await super.setUp()
        proxy = try await startProxy(standardConfig(workers: 1))
    }

    /// Sends each vector on a fresh connection and checks the answer, the close, the upstream's
    /// silence, and a canary.
    private func assertRefused(_ vectors: [Vector], file: StaticString = #filePath, line: UInt = #line) async throws {
        for vector in vectors {
            let bytesBefore = upstream.bytesReceived
            let client = try await connect(proxy)
            try await client.send(vector.raw)
            let response = try await client.readResponse()
            XCTAssertEqual(response.status, vector.status, "\(vector.name): \(response)", file: file, line: line)
            let closed = await client.waitForClose()
            XCTAssertTrue(closed, "\(vector.name): the connection must close", file: file, line: line)
            XCTAssertEqual(upstream.bytesReceived, bytesBefore, "\(vector.name) reached the upstream",
                           file: file, line: line)
            try await assertCanaryAnswered(after: vector.name, file: file, line: line)
        }
    }

    private func assertCanaryAnswered(after name: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let canary = try await connect(proxy)
        let response = try await canary.request("GET", "/canary")
        XCTAssertEqual(response.status, 200, "canary after \(name)", file: file, line: line)
        await canary.close()
    }

    func testHostHeaderVectors() async throws {
        try await assertRefused([
            Vector(name: "two Host fields", raw: "GET /a HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", status: 400),
            Vector(name: "two equal Host fields", raw: "GET /a HTTP/1.1\r\nhost: a\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "no Host on HTTP/1.1", raw: "GET /a HTTP/1.1\r\n\r\n", status: 400),
            Vector(name: "empty Host", raw: "GET /a HTTP/1.1\r\nhost: \r\n\r\n", status: 400),
            Vector(name: "Host with a space", raw: "GET /a HTTP/1.1\r\nhost: a b\r\n\r\n", status: 400),
            Vector(name: "Host with userinfo", raw: "GET /a HTTP/1.1\r\nhost: user@a\r\n\r\n", status: 400),
            Vector(name: "Host with a slash", raw: "GET /a HTTP/1.1\r\nhost: a/b\r\n\r\n", status: 400),
            Vector(name: "Host with a bad port", raw: "GET /a HTTP/1.1\r\nhost: a:8x\r\n\r\n", status: 400),
            Vector(name: "Host port too large", raw: "GET /a HTTP/1.1\r\nhost: a:65536\r\n\r\n", status: 400),
            Vector(name: "absolute target with userinfo", raw: "GET http://u@a/ HTTP/1.1\r\nhost: a\r\n\r\n",
                   status: 400),
        ])
    }

    func testRequestTargetVectors() async throws {
        try await assertRefused([
            Vector(name: "fragment", raw: "GET /a#b HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "bad percent escape", raw: "GET /a%zz HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "truncated percent escape", raw: "GET /a%4 HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "asterisk with GET", raw: "GET * HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "relative target", raw: "GET a/b HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "ftp absolute target", raw: "GET ftp://a/b HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "8-bit byte in target", raw: "GET /caf\u{e9} HTTP/1.1\r\nhost: a\r\n\r\n", status: 400),
            Vector(name: "request line over the limit",
                   raw: "GET /\(String(repeating: "u", count: 9000)) HTTP/1.1\r\nhost: a\r\n\r\n", status: 414),
            Vector(name: "HTTP/0.9 request line", raw: "GET /\r\n", status: 400),
            Vector(name: "HTTP/2.0 on an HTTP/1 connection", raw: "GET /a HTTP/2.0\r\nhost: a\r\n\r\n", status: 400),
        ])
    }

    func testHeaderFieldVectors() async throws {
        let manyFields = (0..<101).map { "x-\($0): v\r\n" }.joined()
        let manyEmpty = String(repeating: "x:\r\n", count: 50_000)
        try await assertRefused([
            Vector(name: "101 header fields", raw: "GET /a HTTP/1.1\r\nhost: a\r\n\(manyFields)\r\n", status: 431),
            Vector(name: "50,000 empty fields", raw: "GET /a HTTP/1.1\r\nhost: a\r\n\(manyEmpty)\r\n", status: 431),
            Vector(name: "field name with a space", raw: "GET /a HTTP/1.1\r\nhost: a\r\nx y: 1\r\n\r\n", status: 400),
            Vector(name: "NUL in a value", raw: "GET /a HTTP/1.1\r\nhost: a\r\nx: a\0b\r\n\r\n", status: 400),
            Vector(name: "bare CR in a value", raw: "GET /a HTTP/1.1\r\nhost: a\r\nx: a\rb\r\n\r\n", status: 400),
            Vector(name: "obsolete line folding", raw: "GET /a HTTP/1.1\r\nhost: a\r\nx: a\r\n b\r\n\r\n", status: 400),
        ])
        // The parser stopped at the 101st field: no head with 50,000 entries was ever built
        // (the validator, which would count it, never saw one).
        let counters = await proxy.server.counters()
        XCTAssertNil(counters["downstream_too_many_headers"])
    }

    func testFramingVectors() async throws {
        try await assertRefused([
            Vector(name: "Transfer-Encoding identity",
                   raw: "POST /a HTTP/1.1\r\nhost: a\r\ntransfer-encoding: identity\r\n\r\nhello", status: 501),
            Vector(name: "Transfer-Encoding gzip, chunked",
                   raw: "POST /a HTTP/1.1\r\nhost: a\r\ntransfer-encoding: gzip, chunked\r\n\r\n0\r\n\r\n", status: 501),
            // NIO's parser refuses this one before we see it.
            Vector(name: "Transfer-Encoding chunked twice",
                   raw: "POST /a HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
                   status: 400),
            Vector(name: "Content-Length with Transfer-Encoding",
                   raw: "POST /a HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
                   status: 400),
            Vector(name: "two different Content-Lengths",
                   raw: "POST /a HTTP/1.1\r\nhost: a\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab", status: 400),
        ])
    }

    /// A body breaks after a valid head: the head already went upstream (bodies stream, as in
    /// Envoy), so the upstream request is cut rather than completed, and the client gets 400.
    func testBrokenChunkAfterAValidHeadIs400AndTheUpstreamRequestIsCut() async throws {
        let client = try await connect(proxy)
        try await client.send("POST /a HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        try await eventually("the head reaching the upstream") { upstream.bytesReceived > 0 }
        try await client.send("zz\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 400, "\(response)")
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        try await eventually("the upstream connection cut") { upstream.openConnections == 0 }
        XCTAssertTrue(upstream.received.isEmpty, "the upstream never saw a complete request")
        try await assertCanaryAnswered(after: "a broken chunk")
    }

    func testMethodAndUpgradeVectors() async throws {
        try await assertRefused([
            Vector(name: "CONNECT", raw: "CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n", status: 405),
            Vector(name: "WebSocket upgrade on a route without upgrades",
                   raw: "GET /ws HTTP/1.1\r\nhost: a\r\nupgrade: websocket\r\nconnection: upgrade\r\n"
                       + "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n",
                   status: 403),
        ])
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_connect_refused"], 1)
        XCTAssertEqual(counters["downstream_upgrade_refused"], 1)
    }

    // MARK: Normalised, not refused

    func testUnderscoreHeadersAreDroppedAndHopByHopNeverForwarded() async throws {
        let client = try await connect(proxy)
        try await client.send("GET /forwarded HTTP/1.1\r\nhost: a\r\nTransfer_Encoding: chunked\r\n"
            + "X_Forwarded_For: 6.6.6.6\r\nx-kept: yes\r\nte: trailers, deflate\r\nhttp2-settings: AAMAAABkAAQAAP__\r\n"
            + "connection: te, http2-settings\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200, "\(response)")
        let request = try XCTUnwrap(upstream.received.last)
        XCTAssertNil(request.head.headers.first(name: "transfer_encoding"))
        XCTAssertNil(request.head.headers.first(name: "x_forwarded_for"))
        XCTAssertEqual(request.head.headers["x-forwarded-for"], ["127.0.0.1"], "only the proxy's own entry")
        XCTAssertEqual(request.head.headers["x-kept"], ["yes"])
        XCTAssertNil(request.head.headers.first(name: "http2-settings"))
        XCTAssertEqual(request.head.headers["te"], ["trailers"], "only te: trailers travels")
    }

    func testAbsoluteFormTargetIsRoutedByItsAuthority() async throws {
        let client = try await connect(proxy)
        try await client.send("GET http://service.local:8080/path?q=1 HTTP/1.1\r\nhost: other\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200, "\(response)")
        let request = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(request.head.uri, "/path?q=1")
        XCTAssertEqual(request.head.headers["host"], ["service.local:8080"])
    }

    func testHTTP10WithoutHostGetsTheEndpointAsHostUpstream() async throws {
        let client = try await connect(proxy)
        try await client.send("GET /old HTTP/1.0\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200, "\(response)")
        let request = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(request.head.headers["host"], [upstream.address], "an HTTP/1.1 request upstream needs a Host")
    }

    func testUnderscoreHeadersRejectedWhenConfigured() async throws {
        let strict = try await startProxy(standardConfig(limits: "limits:\n  headers_with_underscores_action: reject"))
        let client = try await connect(strict)
        try await client.send("GET /a HTTP/1.1\r\nhost: a\r\nx_y: 1\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(upstream.bytesReceived, 0)
    }

    // MARK: HTTP/2

    private func h2Client() async throws -> TestHTTP2Client {
        try await TestHTTP2Client.connect(port: await proxy.port("inbound"), group: group, validatingHeaders: false)
    }

    /// What an h2 stream got: a status, or a reset (RFC 9113 §8.1.1 makes a malformed request
    /// a stream error, which is what NIO's HTTP/2 validation answers before we see it).
    private enum H2Outcome: Equatable {
        case status(Int)
        case reset
    }

    func testHTTP2Vectors() async throws {
        struct H2Vector {
            var name: String
            var path = "/a"
            var authority = "a"
            var headers: [(String, String)] = []
            var allowed: [H2Outcome]
        }
        let malformed: [H2Outcome] = [.status(400), .reset]
        let vectors = [
            H2Vector(name: "authority with a space", authority: "a b", allowed: malformed),
            H2Vector(name: "authority with userinfo", authority: "u@a", allowed: malformed),
            H2Vector(name: "authority with a slash", authority: "a/b", allowed: malformed),
            H2Vector(name: "fragment in :path", path: "/a#b", allowed: malformed),
            H2Vector(name: "bad percent escape in :path", path: "/%zz", allowed: malformed),
            H2Vector(name: "101 header fields", headers: (0..<101).map { ("x-\($0)", "v") },
                     allowed: [.status(431)]),
            H2Vector(name: "a second, different host", headers: [("host", "b")], allowed: malformed),
        ]
        for vector in vectors {
            let bytesBefore = upstream.bytesReceived
            let client = try await h2Client()
            let outcome: H2Outcome
            do {
                let response = try await client.request("GET", vector.path, authority: vector.authority,
                                                        headers: vector.headers)
                outcome = .status(response.status)
            } catch {
                outcome = .reset
            }
            await client.close()
            XCTAssertTrue(vector.allowed.contains(outcome), "\(vector.name): \(outcome)")
            XCTAssertEqual(upstream.bytesReceived, bytesBefore, "\(vector.name) reached the upstream")
            let canary = try await h2Client()
            let answer = try await canary.request("GET", "/canary")
            XCTAssertEqual(answer.status, 200, "canary after \(vector.name)")
            await canary.close()
        }
    }

    func testHTTP2UnderscoreHeadersAreDropped() async throws {
        let client = try await h2Client()
        let response = try await client.request("GET", "/underscore", headers: [("x_forwarded_for", "6.6.6.6")])
        await client.close()
        XCTAssertEqual(response.status, 200)
        let request = try XCTUnwrap(upstream.received.last)
        XCTAssertNil(request.head.headers.first(name: "x_forwarded_for"))
    }

    // MARK: What Lua stages emit

    private func startProxy(stage source: String) async throws -> TestProxy {
        let stages = """
            - name: emitter
              priority: 10
        """
        return try await startProxy(standardConfig(inboundStages: stages, workers: 1), plugins: ["emitter": source])
    }

    func testStageAddingTooManyRequestHeadersFailsTheRequestWithNothingUpstream() async throws {
        let emitting = try await startProxy(stage: """
            function envoy_on_request(h)
              for i = 1, 200 do h:headers():add("x-" .. i, "v") end
            end
            """)
        let client = try await connect(emitting)
        let response = try await client.request("GET", "/a")
        XCTAssertEqual(response.status, 500, "\(response)")
        XCTAssertEqual(upstream.bytesReceived, 0)
        let counters = await emitting.server.counters()
        XCTAssertEqual(counters["plugin_headers_over_limit"], 1)
    }

    func testStageEmittingAHugeResponseHeaderFailsTheResponse() async throws {
        let emitting = try await startProxy(stage: """
            function envoy_on_response(h)
              h:headers():add("x-huge", string.rep("a", 100 * 1024))
            end
            """)
        let client = try await connect(emitting)
        let response = try await client.request("GET", "/a")
        XCTAssertEqual(response.status, 500, "\(response)")
        XCTAssertNil(response.header("x-huge"))
        let again = try await client.request("GET", "/b")
        XCTAssertEqual(again.status, 500, "the connection still serves")
    }
}
