import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// Transcripts of an upstream connection's pipeline as the pool builds it (fast path, NIO's
/// decoder, the connection handler): which responses the fast path reads, when it hands the
/// connection to the decoder for good, and what it does with bytes a response did not frame.
final class UpstreamResponseFastPathTests: XCTestCase {
    private final class Recorder: UpstreamResponseReceiver {
        var events: [String] = []
        var heads: [HTTPResponseHead] = []

        func upstreamResponseHead(_ head: HTTPResponseHead) {
            heads.append(head)
            events.append("head \(head.status.code)")
        }
        func upstreamResponseBody(_ body: ByteBuffer) { events.append("body \(String(buffer: body))") }
        func upstreamResponseEnd(_ trailers: HTTPHeaders?) {
            events.append(trailers.map { "end \($0.map { "\($0.name)=\($0.value)" }.joined(separator: ","))" } ?? "end")
        }
        func upstreamFailed(_ error: UpstreamError) { events.append("failed \(error)") }

        /// The pool, to see where the connection is when a whole response is told.
        var pool: UpstreamPool?
        /// Idle connections in the pool when each whole response was told.
        var idleWhenToldWhole: [Int] = []
        func upstreamWholeResponse(_ head: HTTPResponseHead, body: ByteBuffer?) {
            heads.append(head)
            events.append("whole \(head.status.code)" + (body.map { " \(String(buffer: $0))" } ?? ""))
            idleWhenToldWhole.append(pool?.idleCount ?? -1)
        }

        /// Set: this receiver takes heads as they came (`ForwardedResponseHead`).
        var takesForwardedResponseHead = false
        /// The forwarded heads' bytes, as the client's side would complete them.
        var forwardedHeads: [String] = []
        func upstreamResponseHead(forwarded head: consuming ForwardedResponseHead) {
            forwardedHeads.append(String(buffer: head.bytes))
            events.append("forwarded head \(head.status.code)")
        }
        func upstreamWholeResponse(forwarded head: consuming ForwardedResponseHead, body: ByteBuffer?) {
            forwardedHeads.append(String(buffer: head.bytes))
            events.append("forwarded whole \(head.status.code)" + (body.map { " \(String(buffer: $0))" } ?? ""))
            idleWhenToldWhole.append(pool?.idleCount ?? -1)
        }
    }

    private var channel: EmbeddedChannel!
    private var fastPath: UpstreamResponseFastPath!
    private var connection: UpstreamConnectionHandler!
    private var pool: UpstreamPool!

    // Synchronous, as the tests are: an EmbeddedChannel is used only on the thread that made
    // it, and an async setUp runs on another one than the tests.
    override func setUpWithError() throws {
        channel = EmbeddedChannel()
        // The pipeline a pool's connection gets.
        let sync = channel.pipeline.syncOperations
        let shared = LoopShared(eventLoop: channel.eventLoop)
        connection = try UpstreamConnectionHandler.addHandlers(to: sync, shared: shared, strings: RepeatedFieldStrings())
        fastPath = try sync.handler(type: UpstreamResponseFastPath.self)
        // A pool to go back to: a connection whose response ended closes without one.
        pool = UpstreamPool(endpoint: .init(host: "127.0.0.1", port: 80), eventLoop: channel.eventLoop,
                            connectTimeout: .seconds(1), maxIdle: 4, shared: shared)
        connection.pool = pool
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
    }

    override func tearDownWithError() throws {
        _ = try? channel.finish()
    }

    /// Sends a whole GET (head and end) and returns who hears its answer. `forwarded`: the
    /// receiver takes heads as they came.
    private func request(_ method: HTTPMethod = .GET, forwarded: Bool = false) -> Recorder {
        // Taken from the pool, where the last response's end put it back.
        pool.forget(connection)
        let recorder = Recorder()
        recorder.pool = pool
        recorder.takesForwardedResponseHead = forwarded
        connection.begin(HTTPRequestHead(version: .http1_1, method: method, uri: "/"), receiver: recorder)
        connection.send(.end(nil), flush: true)
        while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
        return recorder
    }

    private func respond(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    private var onFastPath: Bool {
        if case .decoder = fastPath.state { return false }
        return true
    }

    func testCommonResponsesAreReadStraightFromTheBytesAcrossReads() throws {
        let first = request()
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\nx-a: 1\r\n\r\nok")
        // All of it in one read: told as one, once the connection is back in its pool.
        XCTAssertEqual(first.events, ["whole 200 ok"])
        XCTAssertEqual(first.idleWhenToldWhole, [1])
        // The hop-by-hop field went before the head was handed on; the others stay.
        XCTAssertNil(first.heads.first?.headers.first(name: "connection"))
        XCTAssertEqual(first.heads.first?.headers.first(name: "x-a"), "1")
        XCTAssertTrue(onFastPath)

        // A body over several reads, and a HEAD's answer, whose length announces no body.
        let second = request()
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nab")
        try respond("cd")
        try respond("ef")
        XCTAssertEqual(second.events, ["head 200", "body ab", "body cd", "body ef", "end"])
        let third = request(.HEAD)
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n")
        XCTAssertEqual(third.events, ["whole 200"])
        XCTAssertTrue(onFastPath)
        XCTAssertTrue(channel.isActive)
        XCTAssertEqual(pool.idleCount, 1, "back in the pool after each response")
    }

    /// A receiver taking heads as they came gets the bytes, hop-by-hop fields left out, the
    /// status line in the standard form, whole or with the body in parts; what the fast path
    /// would give it as a head (a HEAD's answer, a 204) it gets as a head.
    func testHeadsForwardedAsTheyCameReachTheReceiverAsBytes() throws {
        let whole = request(forwarded: true)
        try respond("HTTP/1.0 200 Fine\r\ncontent-length: 2\r\nconnection: keep-alive\r\nx-a:1\r\n\r\nok")
        XCTAssertEqual(whole.events, ["forwarded whole 200 ok"])
        XCTAssertEqual(whole.forwardedHeads, ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n"])
        XCTAssertEqual(whole.idleWhenToldWhole, [1], "back in its pool before the receiver hears")

        let parts = request(forwarded: true)
        try respond("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 6\r\nKeep-Alive: timeout=5\r\n\r\nab")
        try respond("cdef")
        XCTAssertEqual(parts.events, ["forwarded head 502", "body ab", "body cdef", "end"])
        XCTAssertEqual(parts.forwardedHeads, ["HTTP/1.1 502 Bad Gateway\r\ncontent-length: 6\r\n"])

        let head = request(.HEAD, forwarded: true)
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n")
        let noContent = request(forwarded: true)
        try respond("HTTP/1.1 204 No Content\r\n\r\n")
        XCTAssertEqual(head.events + noContent.events, ["whole 200", "whole 204"])
        XCTAssertTrue(onFastPath)
        XCTAssertEqual(pool.idleCount, 1)

        // One the fast path does not read goes to the decoder, which makes a head of it.
        let chunked = request(forwarded: true)
        try respond("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        XCTAssertEqual(chunked.events, ["head 200", "body ok", "end"])
        XCTAssertFalse(onFastPath)
    }

    func testTheFirstResponseItDoesNotTakeHandsTheConnectionToTheDecoderForGood() throws {
        let chunked = request()
        try respond("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-t: 1\r\n\r\n")
        XCTAssertEqual(chunked.events, ["head 200", "body ok", "end x-t=1"])
        XCTAssertFalse(onFastPath)

        // The decoder keeps the connection, and is told of each request (a HEAD's answer has
        // no body whatever its length says).
        let plain = request()
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        XCTAssertEqual(plain.events, ["head 200", "body ok", "end"])
        let head = request(.HEAD)
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n")
        XCTAssertEqual(head.events, ["head 200", "end"])
        XCTAssertFalse(onFastPath)
        XCTAssertTrue(channel.isActive)
        XCTAssertEqual(pool.idleCount, 1)
    }

    func testAnInterimResponseGoesToTheDecoderWhichDropsIt() throws {
        let recorder = request()
        try respond("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n")
        XCTAssertEqual(recorder.events, ["head 201", "end"])
        XCTAssertFalse(onFastPath)
    }

    func testBytesTheResponseDidNotFrameCloseTheConnection() throws {
        let recorder = request()
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        XCTAssertEqual(recorder.events, ["whole 200 ok"])
        XCTAssertEqual(recorder.idleWhenToldWhole, [0], "closed before the receiver heard, not pooled")
        XCTAssertFalse(channel.isActive, "a connection whose upstream sent more than it framed is not kept")
        XCTAssertEqual(pool.idleCount, 0)
    }

    func testABodyCutShortFailsAsTheDecoderWould() throws {
        let recorder = request()
        try respond("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab")
        channel.pipeline.fireChannelInactive()
        XCTAssertEqual(recorder.events, ["head 200", "body ab", "failed \(UpstreamError.malformedResponse("\(HTTPParserError.invalidEOFState)"))"])
    }
}
