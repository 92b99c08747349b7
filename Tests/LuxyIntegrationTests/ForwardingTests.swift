import LuxyTestSupport
import XCTest

/// Plain proxying through a real upstream, no Lua.
final class ForwardingTests: IntegrationTestCase {
    func testForwardsToUpstreamWithForwardingHeaders() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/books?id=1", headers: [("connection", "keep-alive, x-drop"), ("x-drop", "1")])
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("x-upstream"), "backend")
        let seen = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(seen.head.uri, "/books?id=1")
        XCTAssertEqual(seen.head.headers.first(name: "x-forwarded-for"), "127.0.0.1")
        XCTAssertEqual(seen.head.headers.first(name: "x-forwarded-proto"), "http")
        XCTAssertNil(seen.head.headers.first(name: "x-drop"), "fields named in Connection are hop-by-hop")
        // Keep-alive: a second request on the same connection works. It has no hop-by-hop
        // field, so it goes as it came (`RequestHeadAsItCame`), with the same forwarding fields.
        let second = try await client.request("POST", "/orders", headers: [("x-a", "1")], body: "{\"n\":1}")
        XCTAssertEqual(second.status, 200)
        let sent = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(sent.body, "{\"n\":1}")
        XCTAssertEqual(sent.head.headers.map(\.name),
                       ["host", "x-a", "content-length", "x-forwarded-for", "x-forwarded-proto"])
        XCTAssertEqual(sent.head.headers["x-forwarded-for"], ["127.0.0.1"])
        XCTAssertEqual(sent.head.headers["x-forwarded-proto"], ["http"])
        // A client's own x-forwarded-proto stays, and is not added twice.
        _ = try await client.request("GET", "/", headers: [("x-forwarded-proto", "https")])
        XCTAssertEqual(upstream.received.last?.head.headers["x-forwarded-proto"], ["https"])
        XCTAssertEqual(upstream.received.last?.head.headers["x-forwarded-for"], ["127.0.0.1"])
    }

    /// With no stage, the upstream's head goes on as its bytes say it (no head is made of
    /// it): without its hop-by-hop fields, with the standard status line, the other fields in
    /// their order. An HTTP/1.0 client gets a head made and encoded: the same fields, and
    /// `connection: close`, as does the last answer on a connection.
    func testAResponseHeadNoStageReadsGoesOnWithoutItsHopByHopFields() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        for _ in 0..<2 {
            let response = try await client.request("GET", "/hop-by-hop")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.reasonPhrase, "OK")
            XCTAssertEqual(response.headers.map(\.name), ["x-upstream", "x-a", "content-length", "x-b"])
            XCTAssertEqual(response.header("x-a"), "spaced")
            XCTAssertEqual(response.body, "ok")
        }
        try await client.send("GET /hop-by-hop HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        let last = try await client.readResponse()
        XCTAssertEqual(last.headers.map(\.name), ["x-upstream", "x-a", "content-length", "x-b", "connection"])
        XCTAssertEqual(last.header("connection"), "close")
        XCTAssertEqual(last.body, "ok")

        let old = try await connect(proxy)
        try await old.send("GET /hop-by-hop HTTP/1.0\r\nhost: x\r\n\r\n")
        let answer = try await old.readResponse()
        XCTAssertEqual(answer.headers.map(\.name), ["x-upstream", "x-a", "content-length", "x-b", "connection"])
        XCTAssertEqual(answer.header("connection"), "close")
        XCTAssertEqual(answer.body, "ok")
    }

    func testStreamsChunkedBodiesBothWays() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        try await client.send("POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(upstream.received.last?.body, "hello world")
        let big = try await client.request("GET", "/bytes/300000")
        XCTAssertEqual(big.body.utf8.count, 300_000)
    }

    func testEchoAndDirectResponse() async throws {
        let routes = """
                  - name: hello
                    match: { path: /hello }
                    direct_response: { status: 201, body: "hi" }
        """
        let proxy = try await startProxy(standardConfig(routes: routes))
        let client = try await connect(proxy)
        let hello = try await client.request("GET", "/hello")
        XCTAssertEqual(hello.status, 201)
        XCTAssertEqual(hello.body, "hi")
        let echo = try await client.request("PUT", "/echo/x", headers: [("x-a", "1")], body: "data")
        XCTAssertEqual(echo.status, 200)
        XCTAssertTrue(echo.body.contains("\"method\":\"PUT\""), echo.body)
        XCTAssertTrue(echo.body.contains("\"x-a\":\"1\""), echo.body)
        XCTAssertTrue(echo.body.contains("\"body\":\"data\""), echo.body)
        XCTAssertTrue(upstream.received.isEmpty)
    }

    func testUpstreamRefusedIs503() async throws {
        let cluster = """
          - name: dead
            endpoints: ["127.0.0.1:1"]
        """
        let routes = """
                  - name: dead
                    match: { prefix: /dead }
                    cluster: dead
        """
        let proxy = try await startProxy(standardConfig(routes: routes, cluster: cluster))
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/dead")
        XCTAssertEqual(response.status, 503)
        XCTAssertTrue(response.body.contains("connection refused"), response.body)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_connect_failed"], 1)
    }

    func testUpstreamTimeoutIs504() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/delay/5000")
        XCTAssertEqual(response.status, 504)
        XCTAssertTrue(response.body.contains("timeout"), response.body)
    }

    func testUpstreamResetAndGarbageAre502() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        let reset = try await client.request("GET", "/close")
        XCTAssertEqual(reset.status, 502)
        let garbage = try await client.request("GET", "/garbage")
        XCTAssertEqual(garbage.status, 502)
        XCTAssertTrue(garbage.body.contains("malformed"), garbage.body)
    }

    func testNoRouteIs404() async throws {
        let yaml = standardConfig().replacingOccurrences(of: "domains: [\"*\"]", with: "domains: [\"api.example.com\"]")
        let proxy = try await startProxy(yaml)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/", host: "other.example.com")
        XCTAssertEqual(response.status, 404)
        let routed = try await client.request("GET", "/", host: "API.example.com:8080")
        XCTAssertEqual(routed.status, 200)
    }
}
