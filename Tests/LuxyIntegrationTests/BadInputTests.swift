import LuxyTestSupport
import XCTest

/// Malformed, oversized and ambiguous requests on real sockets, plus the HTTP/1.1
/// connection-management rules (pipelining, HTTP/1.0, `connection: close`).
final class BadInputTests: IntegrationTestCase {
    /// Proves nothing from a rejected request reached the upstream: a second, valid request on
    /// a fresh connection is answered, and it is the only thing the upstream has seen.
    private func assertNothingReachedUpstream(_ proxy: TestProxy, file: StaticString = #filePath,
                                              line: UInt = #line) async throws {
        let sentinel = try await connect(proxy)
        let response = try await sentinel.request("GET", "/sentinel")
        XCTAssertEqual(response.status, 200, file: file, line: line)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/sentinel"],
                       "the rejected request must not reach the upstream", file: file, line: line)
    }

    private func assertRejected(_ raw: String, status: Int, limits: String = "", file: StaticString = #filePath,
                                line: UInt = #line) async throws {
        let proxy = try await startProxy(standardConfig(limits: limits))
        let client = try await connect(proxy)
        try await client.send(raw)
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, status, "\(response)", file: file, line: line)
        XCTAssertEqual(response.header("connection")?.lowercased(), "close", file: file, line: line)
        let closed = await client.waitForClose()
        XCTAssertTrue(closed, "the connection must close after a protocol error", file: file, line: line)
        try await assertNothingReachedUpstream(proxy, file: file, line: line)
    }

    func testMalformedRequestLineIs400AndCloses() async throws {
        try await assertRejected("THIS IS NOT HTTP\r\n\r\n", status: 400)
        let counters = await lastProxyCounters() ?? [:]
        XCTAssertEqual(counters["downstream_bad_requests"], 1)
    }

    func testHeaderBlockOverLimitIs431() async throws {
        let big = String(repeating: "a", count: 4096)
        try await assertRejected("GET /big HTTP/1.1\r\nhost: x\r\nx-big: \(big)\r\n\r\n", status: 431,
                                 limits: "limits:\n  max_header_bytes: 1024")
    }

    func testHeaderBlockUnderLimitPasses() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  max_header_bytes: 1024"))
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/small", headers: [("x-small", String(repeating: "a", count: 200))])
        XCTAssertEqual(response.status, 200)
    }

    func testContentLengthWithTransferEncodingIs400() async throws {
        try await assertRejected(
            "POST /smuggle HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
            status: 400)
    }

    func testDifferingContentLengthsAre400() async throws {
        try await assertRejected(
            "POST /smuggle HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
            status: 400)
    }

    func testStageBodyOverBufferLimitIs413AndNothingUpstream() async throws {
        let stages = """
            - name: reader
              priority: 10
        """
        let proxy = try await startProxy(
            standardConfig(inboundStages: stages, limits: "limits:\n  max_buffered_body_bytes: 1024"),
            plugins: ["reader": "function on_request(h) h:body() end\n"])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/upload", body: String(repeating: "b", count: 4096))
        XCTAssertEqual(response.status, 413, "\(response)")
        try await assertNothingReachedUpstream(proxy)
    }

    func testFailOpenStageBodyOverBufferLimitIsStill413() async throws {
        let stages = """
            - name: reader
              priority: 10
              fail_open: true
        """
        let proxy = try await startProxy(
            standardConfig(inboundStages: stages, limits: "limits:\n  max_buffered_body_bytes: 1024"),
            plugins: ["reader": "function on_request(h) h:body() end\n"])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/upload", body: String(repeating: "b", count: 4096))
        XCTAssertEqual(response.status, 413, "\(response)")
        try await assertNothingReachedUpstream(proxy)
    }

    func testStageBodyOverBufferLimitStreamedInPartsIs413() async throws {
        let stages = """
            - name: reader
              priority: 10
        """
        let proxy = try await startProxy(
            standardConfig(inboundStages: stages, limits: "limits:\n  max_buffered_body_bytes: 1024"),
            plugins: ["reader": "function on_request(h) h:body() end\n"])
        let client = try await connect(proxy)
        // The head first, so the stage is already waiting when the body grows past the limit.
        try await client.send("POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n")
        try await client.send("200\r\n" + String(repeating: "c", count: 512) + "\r\n")
        try await client.send("400\r\n" + String(repeating: "c", count: 1024) + "\r\n0\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 413, "\(response)")
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        try await assertNothingReachedUpstream(proxy)
    }

    func testStageBodyUnderBufferLimitIsForwarded() async throws {
        let stages = """
            - name: reader
              priority: 10
        """
        let proxy = try await startProxy(
            standardConfig(inboundStages: stages, limits: "limits:\n  max_buffered_body_bytes: 1024"),
            plugins: ["reader": "function on_request(h) h:body() end\n"])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/upload", body: String(repeating: "b", count: 512))
        XCTAssertEqual(response.status, 200, "\(response)")
        XCTAssertEqual(upstream.received.last?.body.count, 512)
    }

    func testPipelinedRequestsAreAnsweredInOrder() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        try await client.send("GET /first HTTP/1.1\r\nhost: x\r\n\r\nGET /second HTTP/1.1\r\nhost: x\r\n\r\n")
        let first = try await client.readResponse()
        let second = try await client.readResponse()
        XCTAssertEqual(first.status, 200)
        XCTAssertTrue(first.body.hasPrefix("GET /first\n"), first.body)
        XCTAssertEqual(second.status, 200)
        XCTAssertTrue(second.body.hasPrefix("GET /second\n"), second.body)
        XCTAssertFalse(client.isClosed)
        // The connection is still usable afterwards.
        let third = try await client.request("GET", "/third")
        XCTAssertTrue(third.body.hasPrefix("GET /third\n"), third.body)
    }

    func testPipelinedLocalAndUpstreamResponsesKeepOrder() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        // The first goes upstream and is answered later than the local echo behind it would be.
        try await client.send("GET /delay/200 HTTP/1.1\r\nhost: x\r\n\r\nGET /echo/now HTTP/1.1\r\nhost: x\r\n\r\n")
        let first = try await client.readResponse()
        let second = try await client.readResponse()
        XCTAssertTrue(first.body.hasPrefix("GET /delay/200\n"), first.body)
        XCTAssertTrue(second.body.contains("\"path\":\"/echo/now\""), second.body)
    }

    func testHTTP10WithoutKeepAliveClosesAfterResponse() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        try await client.send("GET /old HTTP/1.0\r\nhost: x\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.body.hasPrefix("GET /old\n"), response.body)
        let closed = await client.waitForClose()
        XCTAssertTrue(closed, "HTTP/1.0 without keep-alive must close after the response")
    }

    func testConnectionCloseIsHonoured() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/bye", headers: [("connection", "close")])
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("connection")?.lowercased(), "close")
        let closed = await client.waitForClose()
        XCTAssertTrue(closed, "connection: close must close after the response")
        XCTAssertEqual(upstream.received.count, 1)
        XCTAssertNil(upstream.received.first?.head.headers.first(name: "connection"),
                     "connection is hop-by-hop and is not forwarded")
    }

    func testConnectionCloseOnLocalReplyIsHonoured() async throws {
        let proxy = try await startProxy(standardConfig())
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/echo/bye", headers: [("connection", "close")])
        XCTAssertEqual(response.status, 200)
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        XCTAssertTrue(upstream.received.isEmpty)
    }

    // MARK: Helpers

    private var lastProxy: TestProxy?

    override func startProxy(_ yaml: String, plugins: [String: String] = [:]) async throws -> TestProxy {
        let proxy = try await super.startProxy(yaml, plugins: plugins)
        lastProxy = proxy
        return proxy
    }

    private func lastProxyCounters() async -> [String: Int]? {
        guard let lastProxy else { return nil }
        return await lastProxy.server.counters()
    }
}
