import LuxyTestSupport
import XCTest

/// Framing and connection-reuse edge cases where a proxy can desynchronise a client or an
/// upstream connection.
final class HTTPEdgeCaseTests: IntegrationTestCase {
    func testConnectionOptionCannotStripContentLength() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        // Were content-length dropped, the body would reach the upstream as a second request.
        try await client.send("GET /smuggle HTTP/1.1\r\nhost: x\r\nconnection: content-length\r\ncontent-length: 33\r\n\r\n"
            + "GET /hidden HTTP/1.1\r\nhost: x\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200)
        let second = try await client.request("GET", "/next")
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/smuggle", "/next"])
        XCTAssertEqual(upstream.received.first?.body, "GET /hidden HTTP/1.1\r\nhost: x\r\n\r\n")
    }

    func testEarlyUpstreamAnswerDoesNotPoisonThePool() async throws {
        // One worker: the second client's requests go through the same pool as the first's.
        let proxy = try await startProxy(standardConfig(workers: 1))
        let client = try await connect(proxy)
        try await client.send("POST /early HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n12345")
        let early = try await client.readResponse()
        XCTAssertEqual(early.status, 401)
        try await client.send("67890")
        // The next requests see their own answers, on one pooled upstream connection: the one
        // whose request never went out whole was closed, not given back to the pool.
        let other = try await connect(proxy)
        for index in 0..<3 {
            let response = try await other.request("GET", "/after-\(index)")
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.body.hasPrefix("GET /after-\(index)"), response.body)
        }
        XCTAssertEqual(upstream.connectionsAccepted, 2, "the early exchange's connection, then one pooled for the rest")
    }

    /// An upstream that says `connection: close` is taken at its word even when it leaves the
    /// socket open: a request sent on such a connection could be dropped, or answered twice.
    func testAResponseSayingCloseIsNotPooledEvenWhenTheSocketStaysOpen() async throws {
        // One worker: all the requests go through one pool.
        let proxy = try await startProxy(standardConfig(workers: 1))
        let client = try await connect(proxy)
        for _ in 0..<3 {
            let response = try await client.request("GET", "/say-close")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.body, "ok")
        }
        XCTAssertEqual(upstream.connectionsAccepted, 3, "each request on a connection of its own")
        // Its opposite: the same upstream saying nothing is pooled.
        for _ in 0..<3 { _ = try await client.request("GET", "/after") }
        XCTAssertEqual(upstream.connectionsAccepted, 4, "one connection, reused")
    }

    func testExpectContinueIsAnsweredByTheProxy() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        try await client.send("POST /upload HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n")
        let interim = try await client.readResponse()
        XCTAssertEqual(interim.status, 100)
        try await client.send("hello")
        let final = try await client.readResponse()
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(upstream.received.last?.body, "hello")
        XCTAssertNil(upstream.received.last?.head.headers.first(name: "expect"))
    }

    func testHTTP10ClientGetsACloseDelimitedBody() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        try await client.send("GET /bytes/5000 HTTP/1.0\r\nhost: x\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertNil(response.header("transfer-encoding"), "HTTP/1.0 has no chunked coding")
        XCTAssertEqual(response.body.utf8.count, 5000)
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
    }

    func testNothingIsForwardedBehindAConnectionClose() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        try await client.send("GET /first HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
            + "POST /second HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi")
        let first = try await client.readResponse()
        XCTAssertEqual(first.status, 200)
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/first"])
    }

    func testOversizedHTTPCallResponseIsA502ForTheScript() async throws {
        let stages = """
            - name: caller
              priority: 1
        """
        let script = """
        function envoy_on_request(h)
          local headers, body = h:httpCall("backend", {[":method"] = "GET", [":path"] = "/bytes/4096",
            [":authority"] = "backend"}, "", 2000)
          h:respond({[":status"] = "200", ["x-call-status"] = headers[":status"]}, "")
        end
        """
        let proxy = try await startProxy(standardConfig(inboundStages: stages,
                                                        limits: "limits: { max_buffered_body_bytes: 1024 }"),
                                         plugins: ["caller": script])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/")
        XCTAssertEqual(response.header("x-call-status"), "502")
    }

    func testAKeptAliveConnectionClosedByTheUpstreamIsRetriedOnce() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        let first = try await client.request("GET", "/flaky")
        XCTAssertEqual(first.status, 200)
        // The pooled connection is reused and closed by the upstream without an answer: the
        // proxy retries on a new connection rather than answering 502.
        let second = try await client.request("GET", "/flaky")
        XCTAssertEqual(second.status, 200, second.description)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_retry_stale_connection"], 1)
        // A request with a body is not replayed.
        let post = try await client.request("POST", "/flaky", body: "once")
        XCTAssertEqual(post.status, 502)
    }

    func testManyPipelinedRequestsAreAnsweredInOrder() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        // More than the 64 parts the handler queues before it stops reading.
        try await client.send((0..<100).map { "GET /p/\($0) HTTP/1.1\r\nhost: x\r\n\r\n" }.joined())
        for index in 0..<100 {
            let response = try await client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertTrue(response.body.hasPrefix("GET /p/\(index)\n"), "response \(index): \(response.body.prefix(20))")
        }
        XCTAssertEqual(upstream.received.count, 100)
    }

    func testClearRouteCacheRoutesTheRewrittenRequestAgain() async throws {
        let stages = """
            - name: rewrite
              priority: 1
        """
        let script = """
        function envoy_on_request(h)
          local path = h:headers():get(":path")
          if path == "/old" or path == "/old-kept" then
            h:headers():replace(":path", "/echo/new")
            if path == "/old" then h:clearRouteCache() end
          end
        end
        """
        let proxy = try await startProxy(standardConfig(inboundStages: stages), plugins: ["rewrite": script])
        let client = try await connect(proxy)
        let rerouted = try await client.request("GET", "/old")
        XCTAssertTrue(rerouted.body.contains("\"path\":\"/echo/new\""), "routed again, to echo: \(rerouted.body)")
        XCTAssertTrue(upstream.received.isEmpty)
        // Without clearRouteCache() too: changing :path clears the route cache by itself, as
        // Envoy's clear_route_cache (default true) does (LuaRouteSelectionTests has the rest).
        let alsoRerouted = try await client.request("GET", "/old-kept")
        XCTAssertTrue(alsoRerouted.body.contains("\"path\":\"/echo/new\""), alsoRerouted.body)
        XCTAssertTrue(upstream.received.isEmpty)
    }
}

