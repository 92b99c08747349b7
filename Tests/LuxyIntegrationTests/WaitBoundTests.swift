import LuxyTestSupport
import NIOCore
import XCTest

/// Every wait on a client bounded, on real sockets with short configured timeouts: the
/// request header timeout, the request body timeout, the send timeout, the HTTP/2 stream idle
/// timeout and unfinished header block, and the 413 a declared length earns before any
/// `100 Continue`. Each test waits on the condition it is about, bounded, never on a sleep;
/// each ends with a canary request, so the process and the worker serve on.
final class WaitBoundTests: IntegrationTestCase {
    private var clients: [TestTCPClient] = []
    private var h2Clients: [TestHTTP2Client] = []

    override func tearDown() async throws {
        for client in clients { await client.close() }
        for client in h2Clients { await client.close() }
        try await super.tearDown()
    }

    private func rawClient(_ proxy: TestProxy, slowReadInterval: TimeAmount? = nil,
                           receiveBufferSize: Int? = nil) async throws -> TestTCPClient {
        let client = try await TestTCPClient.connect(port: await proxy.port("inbound"), group: group,
                                                     slowReadInterval: slowReadInterval,
                                                     receiveBufferSize: receiveBufferSize)
        clients.append(client)
        return client
    }

    /// A fresh connection still gets an answer from the upstream: the worker is not stuck.
    private func assertCanaryAnswered(_ proxy: TestProxy, file: StaticString = #filePath, line: UInt = #line) async throws {
        let canary = try await connect(proxy)
        let response = try await canary.request("GET", "/canary")
        XCTAssertEqual(response.status, 200, file: file, line: line)
    }

    // MARK: Request header timeout

    func testAnUnfinishedRequestHeadGets408AtTheHeaderTimeoutAndNothingReachesTheUpstream() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  request_header_timeout: 300ms"))
        let client = try await connect(proxy)
        let sent = ContinuousClock.now
        try await client.send("GET /slow HTTP/1.1\r\nhost: x\r\nx-slow: 1\r\n")
        let response = try await client.readResponse()
        let waited = ContinuousClock.now - sent
        XCTAssertEqual(response.status, 408, "\(response)")
        XCTAssertEqual(response.header("connection")?.lowercased(), "close")
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(250), "not before the timeout")
        XCTAssertLessThan(waited, .seconds(3))
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_request_header_timeout"], 1)
        try await assertCanaryAnswered(proxy)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/canary"], "the unfinished request reached nobody")
    }

    // MARK: Request body timeout

    /// The body stops halfway while the request already streams to the upstream: the client
    /// gets 408 and the upstream connection carrying the half request is closed.
    func testAStalledRequestBodyGets408AndItsUpstreamRequestIsCancelled() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  request_body_timeout: 300ms"))
        let client = try await connect(proxy)
        try await client.send("POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n01234")
        try await eventually("the upstream connection opened") { upstream.openConnections == 1 }
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 408, "\(response)")
        XCTAssertEqual(response.header("connection")?.lowercased(), "close")
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        try await eventually("the upstream request was cancelled") { upstream.openConnections == 0 }
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_request_body_timeout"], 1)
        XCTAssertTrue(upstream.received.isEmpty, "the upstream never saw a complete request")
        try await assertCanaryAnswered(proxy)
    }

    // MARK: Send timeout

    /// A client that never reads a large streamed response (a small receive buffer, one
    /// worker): once the proxy's writes back up for the send timeout, the connection closes
    /// and the upstream connection feeding it is let go; the worker serves on.
    func testAClientThatDoesNotReadIsClosedAtTheSendTimeoutAndTheUpstreamReleased() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  send_timeout: 300ms", workers: 1))
        let client = try await rawClient(proxy, slowReadInterval: .hours(1), receiveBufferSize: 4096)
        try await client.send("GET /bytes/16777216 HTTP/1.1\r\nhost: x\r\n\r\n")
        try await eventually("the send timeout fired", timeout: .seconds(10)) {
            await proxy.server.counters()["downstream_send_timeout"] == 1
        }
        try await eventually("the upstream connection was let go") { upstream.openConnections == 0 }
        try await assertCanaryAnswered(proxy)
    }

    // MARK: 100-continue

    private static let bodyReader = """
        - name: reader
          priority: 10
    """

    /// A body-reading stage and a declared length over `max_buffered_body_bytes`: 413 at once,
    /// no `100 Continue` before it (the first thing the client reads is the 413), the body
    /// never sent, nothing upstream.
    func testADeclaredLengthOverABodyReadingStagesLimitGets413WithoutA100() async throws {
        let proxy = try await startProxy(
            standardConfig(inboundStages: Self.bodyReader, limits: "limits:\n  max_buffered_body_bytes: 1024"),
            plugins: ["reader": "function on_request(h) h:body() end\n"])
        let client = try await connect(proxy)
        try await client.send("POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 4096\r\nexpect: 100-continue\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 413, "the first answer is the 413, no 100 before it: \(response)")
        XCTAssertEqual(response.header("connection")?.lowercased(), "close")
        let closed = await client.waitForClose()
        XCTAssertTrue(closed)
        try await assertCanaryAnswered(proxy)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/canary"], "nothing of the refused request went upstream")
    }

    private func assertContinueUpload(_ proxy: TestProxy, file: StaticString = #filePath, line: UInt = #line) async throws {
        let client = try await connect(proxy)
        try await client.send("POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
        let interim = try await client.readResponse()
        XCTAssertEqual(interim.status, 100, "\(interim)", file: file, line: line)
        try await client.send("hello")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200, "\(response)", file: file, line: line)
        XCTAssertEqual(upstream.received.last?.body, "hello", file: file, line: line)
        XCTAssertNil(upstream.received.last?.head.headers.first(name: "expect"), "met here, not passed on",
                     file: file, line: line)
    }

    func testA100ContinueUploadWithoutABodyReadingStageGets100ThenTheAnswer() async throws {
        let proxy = try await startProxy(standardConfig())
        try await assertContinueUpload(proxy)
    }

    func testA100ContinueUploadThroughABodyReadingStageGets100ThenTheAnswer() async throws {
        let proxy = try await startProxy(
            standardConfig(inboundStages: Self.bodyReader, limits: "limits:\n  max_buffered_body_bytes: 1024"),
            plugins: ["reader": "function on_request(h) h:body() end\n"])
        try await assertContinueUpload(proxy)
    }

    // MARK: HTTP/2

    /// An h2 request the upstream holds, with no frame either way for the stream idle
    /// timeout: the client gets 408 on the stream, and the upstream sees the request go away
    /// (its connection is closed).
    func testAnIdleHTTP2StreamGets408AndItsUpstreamRequestIsCancelled() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  stream_idle_timeout: 300ms"))
        let client = try await TestHTTP2Client.connect(port: await proxy.port("inbound"), group: group)
        h2Clients.append(client)
        let response = try await client.request("GET", "/hold")
        XCTAssertEqual(response.status, 408, "\(response)")
        XCTAssertEqual(upstream.heldCount, 1, "the request reached the upstream, which held it")
        try await eventually("the upstream request was cancelled") { upstream.openConnections == 0 }
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_http2_stream_idle_timeout"], 1)
        // The connection serves on: a second stream is answered.
        let next = try await client.request("GET", "/after")
        XCTAssertEqual(next.status, 200)
    }

    /// The cluster's request timeout on an h2 stream, kept by the connection's one timer
    /// (`HTTP2StreamDeadlines`) rather than one per stream: 504, and the stream idle timeout
    /// (longer here) does not fire first.
    func testAnHTTP2RequestTheUpstreamHoldsGets504AtTheClustersRequestTimeout() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  stream_idle_timeout: 1m"))
        let client = try await TestHTTP2Client.connect(port: await proxy.port("inbound"), group: group)
        h2Clients.append(client)
        let sent = ContinuousClock.now
        let response = try await client.request("GET", "/hold")
        let waited = ContinuousClock.now - sent
        XCTAssertEqual(response.status, 504, "\(response)")
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(1900), "request_timeout is 2 s")
        XCTAssertLessThan(waited, .seconds(10))
        try await eventually("the upstream request was cancelled") { upstream.openConnections == 0 }
        let counters = await proxy.server.counters()
        XCTAssertNil(counters["downstream_http2_stream_idle_timeout"])
        let next = try await client.request("GET", "/after")
        XCTAssertEqual(next.status, 200)
    }

    /// HEADERS without END_HEADERS, then nothing: GOAWAY (ENHANCE_YOUR_CALM) and close at the
    /// request header timeout, written as raw h2 frames.
    func testAnUnfinishedHTTP2HeaderBlockGetsGoAwayAndClose() async throws {
        let proxy = try await startProxy(standardConfig(limits: "limits:\n  request_header_timeout: 300ms"))
        let client = try await rawClient(proxy)
        var bytes = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        bytes.writeBytes(Self.frame(type: 0x4, flags: 0, stream: 0, payload: []))  // SETTINGS
        // HEADERS on stream 1: END_STREAM, no END_HEADERS; `:method: GET` (HPACK index 2).
        bytes.writeBytes(Self.frame(type: 0x1, flags: 0x1, stream: 1, payload: [0x82]))
        try await client.send(bytes)
        let closed = await client.wait(timeout: .seconds(5)) { $0.isClosed }
        XCTAssertTrue(closed, "the connection must close")
        let goAway = Self.frames(in: client.receivedBytes).first { $0.type == 0x7 }
        XCTAssertNotNil(goAway, "a GOAWAY before the close")
        XCTAssertEqual(goAway.map { Array($0.payload.suffix(4)) }, [0, 0, 0, 0xb], "ENHANCE_YOUR_CALM")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_http2_header_block_timeout"], 1)
        try await assertCanaryAnswered(proxy)
    }

    /// A stream answered at once (a direct response) whose client never ends its request
    /// and sends nothing more: with its answer out, the idle stream is reset (RST_STREAM
    /// CANCEL), and the connection serves on.
    func testAnIdleHTTP2StreamAnsweredAlreadyIsReset() async throws {
        let routes = """
                  - name: direct
                    match: { path: /direct }
                    direct_response: { status: 200, body: "direct\\n" }
        """
        let proxy = try await startProxy(standardConfig(routes: routes, limits: "limits:\n  stream_idle_timeout: 300ms"))
        let client = try await rawClient(proxy)
        var bytes = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        bytes.writeBytes(Self.frame(type: 0x4, flags: 0, stream: 0, payload: []))  // SETTINGS
        // HEADERS on stream 1, END_HEADERS but no END_STREAM: POST, http, /direct, authority x.
        let block: [UInt8] = [0x83, 0x86, 0x04, 0x07] + Array("/direct".utf8) + [0x01, 0x01, UInt8(ascii: "x")]
        bytes.writeBytes(Self.frame(type: 0x1, flags: 0x4, stream: 1, payload: block))
        try await client.send(bytes)
        let reset = await client.wait(timeout: .seconds(5)) { client in
            Self.frames(in: client.receivedBytes).contains { $0.type == 0x3 && $0.stream == 1 }
        }
        XCTAssertTrue(reset, "the idle stream must be reset")
        let frames = Self.frames(in: client.receivedBytes)
        XCTAssertTrue(frames.contains { $0.type == 0x1 && $0.stream == 1 }, "its answer went out first")
        XCTAssertEqual(frames.first { $0.type == 0x3 }?.payload, [0, 0, 0, 0x8], "RST_STREAM CANCEL")
        XCTAssertFalse(frames.contains { $0.type == 0x7 }, "the stream is reset, not the connection")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["downstream_http2_stream_idle_timeout"], 1)
        try await assertCanaryAnswered(proxy)
    }

    private static func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
                UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
            + payload
    }

    private struct Frame {
        var type: UInt8
        var stream: UInt32
        var payload: [UInt8]
    }

    /// The frames in what the server sent; bounded by the bytes.
    private static func frames(in bytes: [UInt8]) -> [Frame] {
        var frames: [Frame] = []
        var index = 0
        while index + 9 <= bytes.count {
            let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            guard index + 9 + length <= bytes.count else { break }
            let stream = UInt32(bytes[index + 5] & 0x7f) << 24 | UInt32(bytes[index + 6]) << 16
                | UInt32(bytes[index + 7]) << 8 | UInt32(bytes[index + 8])
            frames.append(Frame(type: bytes[index + 3], stream: stream,
                                payload: Array(bytes[(index + 9)..<(index + 9 + length)])))
            index += 9 + length
        }
        return frames
    }
}
