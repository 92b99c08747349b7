@testable import LuxyCore
import NIOCore
import NIOEmbedded
import XCTest

/// Transcripts of one downstream HTTP/1.1 connection through `HTTPProxyHandler`, in the
/// style of SwiftNIO's `HTTPServerPipelineHandlerTest`: the client's bytes go in, the exact
/// bytes the handler wrote come out, and the loop's clock moves only when a test moves it.
/// The pipeline is the one `HTTPProxyPipeline.configureHTTP1` builds (see `ProxyConnection`).
final class HTTPProxyHandlerTests: XCTestCase {
    private func get(_ path: String, _ fields: String = "", version: String = "HTTP/1.1") -> String {
        "GET \(path) \(version)\r\nhost: example.com\r\n\(fields)\r\n"
    }

    // MARK: Pipelining

    func testTwoRequestsInOneReadAreAnsweredInOrder() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello") + get("/nowhere"))
        XCTAssertEqual(try proxy.output(), helloReply + reply("no route for /nowhere\n", status: "404 Not Found"))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    /// A small answer known whole leaves as one buffer (one write, no gathering write); a
    /// larger body follows its head in a buffer of its own rather than being copied behind it.
    func testASmallAnswerLeavesInOneBufferAndALargeBodyIsNotCopiedBehindItsHead() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }, helloReply)
        XCTAssertNil(try proxy.channel.readOutbound(as: ByteBuffer.self))

        let large = String(repeating: "a", count: HTTP1ResponseEncoder.maximumJoinedBodyBytes)
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: \(large.utf8.count)\r\n\r\n\(large)")
        let head = try XCTUnwrap(proxy.channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) })
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\n"))
        XCTAssertTrue(head.hasSuffix("\r\n\r\n"), "the head alone")
        let body = try XCTUnwrap(proxy.channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) })
        XCTAssertTrue(body.contains(large))
        XCTAssertNil(try proxy.channel.readOutbound(as: ByteBuffer.self))
        proxy.assertEveryExchangeEnded()
    }

    /// Plain requests are read in front of the decoder, pipelined ones included; the first
    /// chunked upload hands the connection to NIO's decoder, which reads the rest of it.
    func testTheFastPathReadsPlainRequestsUntilOneIsNotPlain() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        let fastPath = try proxy.channel.pipeline.syncOperations.handler(type: RequestFastPath.self)
        func onFastPath() -> Bool {
            if case .decoder = fastPath.state { return false }
            return true
        }
        try proxy.send(get("/hello") + "POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\nab")
        try proxy.send("cde" + get("/hello"))
        let echo = #"{"method":"POST","path":"/echo","headers":{"host":"example.com","content-length":"5"},"body":"abcde"}"#
        XCTAssertEqual(try proxy.output(), helloReply + reply(echo + "\n", contentType: "application/json") + helloReply)
        XCTAssertTrue(onFastPath())

        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        XCTAssertFalse(onFastPath())
        let chunked = #"{"method":"POST","path":"/echo","headers":{"host":"example.com","transfer-encoding":"chunked"},"body":"abc"}"#
        XCTAssertEqual(try proxy.output(), reply(chunked + "\n", contentType: "application/json"))
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    func testARequestPipelinedBehindOneInFlightWaitsForItsAnswer() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held"))
        XCTAssertEqual(try proxy.output(), "")
        XCTAssertEqual(proxy.holds.waiting.count, 1)
        // Two more while the first is in flight: neither starts, nothing is answered.
        try proxy.send(get("/hello"))
        try proxy.send(get("/held"))
        XCTAssertEqual(try proxy.output(), "")
        XCTAssertEqual(proxy.holds.waiting.count, 1, "a queued request must not start before the one ahead is answered")
        // The first is answered: the second follows at once, the third starts and waits.
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply + helloReply)
        XCTAssertEqual(proxy.holds.waiting.count, 1)
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply)
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    func testReadsStopWhileSixtyFourPartsWaitAndResumeWhenTheyDrain() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        let base = proxy.socket.reads
        try proxy.send(get("/held"))
        XCTAssertEqual(proxy.socket.reads, base + 1)
        // 31 GETs behind it: 62 parts (head and end each) wait, reading goes on.
        try proxy.send(String(repeating: get("/hello"), count: 31))
        XCTAssertEqual(proxy.socket.reads, base + 2)
        // The 32nd makes 64: the read asked for after it is withheld, and so is a later one.
        try proxy.send(get("/hello"))
        XCTAssertEqual(proxy.socket.reads, base + 2, "no read may reach the channel while 64 parts wait")
        proxy.channel.read()
        XCTAssertEqual(proxy.socket.reads, base + 2)
        XCTAssertEqual(try proxy.output(), "")
        // The one in flight is answered: the queue drains in order and the withheld read is made once.
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply + String(repeating: helloReply, count: 32))
        XCTAssertEqual(proxy.socket.reads, base + 3)
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        XCTAssertEqual(proxy.socket.reads, base + 4)
        proxy.assertEveryExchangeEnded()
    }

    func testAQueuedRequestAnsweredBeforeItsBodyLetsTheRequestBehindItThrough() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held")
            + "POST /hello HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\nabcde"
            + get("/nowhere"))
        XCTAssertEqual(try proxy.output(), "")
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(),
                       heldReply + helloReply + reply("no route for /nowhere\n", status: "404 Not Found"))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: Early answers

    func testAnEarlyAnswerDiscardsTheRestOfTheBodyAndTheConnectionGoesOn() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        // The route answers from the head alone, before any of the 10 body bytes came.
        try proxy.send("POST /hello HTTP/1.1\r\nhost: example.com\r\ncontent-length: 10\r\n\r\n")
        XCTAssertEqual(try proxy.output(), helloReply)
        // The body is still read (the next request starts behind it), and goes nowhere.
        try proxy.send("01234")
        XCTAssertEqual(try proxy.output(), "")
        try proxy.send("56789" + get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply, "one answer for the next request, none more for the first")
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    func testAnEarlyAnswerToAChunkedUploadKeepsTheConnection() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /hello HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabcde\r\n")
        XCTAssertEqual(try proxy.output(), helloReply)
        try proxy.send("3\r\nfgh\r\n")
        try proxy.send("0\r\n\r\n" + get("/nowhere"))
        XCTAssertEqual(try proxy.output(), reply("no route for /nowhere\n", status: "404 Not Found"))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: Upload with backpressure

    private static let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * 1024)

    func testAnUploadWaitingOnItsStageIsHeldBackThenReadToTheEnd() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        let length = 6 * Self.chunk.readableBytes
        try proxy.send("POST /held-echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: \(length)\r\n\r\n")
        let base = proxy.socket.reads
        // The stage holds the request, so the body has nowhere to go: 256 KiB are buffered...
        for sent in 1...4 {
            try proxy.send(Self.chunk)
            XCTAssertEqual(proxy.socket.reads, base + sent)
        }
        // ...and once over that, reading stops.
        try proxy.send(Self.chunk)
        XCTAssertEqual(proxy.socket.reads, base + 4, "reading must stop once the held body is over 256 KiB")
        proxy.channel.read()
        XCTAssertEqual(proxy.socket.reads, base + 4)
        // The stage lets it go to the echo, which wants the whole body: the withheld read is made.
        proxy.holds.release()
        XCTAssertEqual(proxy.socket.reads, base + 5)
        XCTAssertEqual(try proxy.output(), "")
        try proxy.send(Self.chunk)
        let answer = try proxy.output()
        let body = String(repeating: "a", count: length)
        let json = #"{"method":"POST","path":"/held-echo","headers":{"host":"example.com","content-length":"\#(length)"},"body":"\#(body)"}"#
        XCTAssertEqual(answer, reply(json + "\n", contentType: "application/json"))
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        proxy.assertEveryExchangeEnded()
    }

    func testAnUploadHeldBackThenAnsweredEarlyResumesReadingAndDropsTheRest() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        let length = 6 * Self.chunk.readableBytes
        try proxy.send("POST /held HTTP/1.1\r\nhost: example.com\r\ncontent-length: \(length)\r\n\r\n")
        let base = proxy.socket.reads
        for _ in 1...5 { try proxy.send(Self.chunk) }
        XCTAssertEqual(proxy.socket.reads, base + 4)
        // A direct response: answered before the body ended, and the client may go on sending.
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply)
        XCTAssertEqual(proxy.socket.reads, base + 5)
        try proxy.send(Self.chunk)
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: connection: close

    func testConnectionCloseFromTheClientEndsTheConnectionAfterItsAnswer() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello", "connection: close\r\n") + get("/hello"))
        XCTAssertEqual(try proxy.output(), reply("hello\n", close: true), "nothing for the request behind it")
        XCTAssertFalse(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    /// Whether a request keeps its connection open does not depend on which path read its
    /// head: the fast path reads `connection` as llhttp does (here `keep-alive` listed twice,
    /// which NIO's own rescan of a head would take for a close), and a head pipelined behind
    /// another keeps what the fast path read of it.
    func testKeepAliveIsReadAlikeByTheFastPathTheDecoderAndThePipeline() throws {
        let doubled = "connection: keep-alive, keep-alive\r\n"
        let alone = try ProxyConnection()
        defer { try? alone.finish() }
        try alone.send(get("/hello", doubled))
        XCTAssertEqual(try alone.output(), helloReply)
        XCTAssertTrue(alone.channel.isActive)

        let pipelined = try ProxyConnection()
        defer { try? pipelined.finish() }
        try pipelined.send(get("/held"))
        try pipelined.send(get("/hello", doubled))
        pipelined.holds.release()
        XCTAssertEqual(try pipelined.output(), reply("held\n") + helloReply)
        XCTAssertTrue(pipelined.channel.isActive)

        // A head split over two reads is NIO's decoder's (llhttp) to read.
        let decoded = try ProxyConnection()
        defer { try? decoded.finish() }
        let request = get("/hello", doubled)
        let half = request.index(request.startIndex, offsetBy: 10)
        try decoded.send(String(request[..<half]))
        try decoded.send(String(request[half...]))
        XCTAssertEqual(try decoded.output(), helloReply)
        XCTAssertTrue(decoded.channel.isActive)
    }

    func testConnectionCloseOnARequestInFlightDropsTheRequestsBehindIt() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held", "connection: close\r\n"))
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), "")
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), reply("held\n", close: true))
        XCTAssertFalse(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: Protocol errors

    func testAMalformedRequestGets400AndTheConnectionCloses() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello") + "NOT HTTP\r\n\r\n")
        XCTAssertEqual(try proxy.output(),
                       helloReply + reply("malformed request: invalid HTTP method\n", status: "400 Bad Request", close: true))
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.context.stats.counters["downstream_bad_requests"], 1)
        proxy.assertEveryExchangeEnded()
    }

    func testAHeaderBlockOverTheLimitGets431() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        // max_header_bytes is 1024.
        try proxy.send(get("/hello", "x-big: \(String(repeating: "b", count: 2000))\r\n"))
        XCTAssertEqual(try proxy.output(),
                       reply("request headers too large\n", status: "431 Request Header Fields Too Large", close: true))
        XCTAssertFalse(proxy.channel.isActive)
    }

    func testGarbageBehindARequestInFlightEndsTheConnectionAfterItsAnswer() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held") + "NOT HTTP\r\n\r\n")
        XCTAssertEqual(try proxy.output(), "")
        XCTAssertTrue(proxy.channel.isActive)
        // The complete request still gets its answer, as the last one, and no 400 follows.
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), reply("held\n", close: true))
        XCTAssertFalse(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    func testGarbageInABodyAfterItsEarlyAnswerClosesWithoutASecondAnswer() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /hello HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n")
        XCTAssertEqual(try proxy.output(), helloReply)
        try proxy.send("zz\r\nnot a chunk\r\n")
        XCTAssertEqual(try proxy.output(), "", "the request already has its answer")
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.socket.writesAfterClose, 0)
        proxy.assertEveryExchangeEnded()
    }

    func testGarbageInTheBodyOfARequestInFlightIs400AndCloses() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /held HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n")
        XCTAssertEqual(proxy.holds.waiting.count, 1)
        try proxy.send("zz\r\nnot a chunk\r\n")
        // Nothing of its answer went out yet: the client learns why the request failed.
        XCTAssertTrue(try proxy.output().hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.socket.writesAfterClose, 0)
        // The stage's verdict comes after the exchange was aborted: it must find it over.
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), "")
        XCTAssertEqual(proxy.socket.writesAfterClose, 0)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: Idle timeout

    func testAConnectionIdleAfterAnAnswerClosesAtTheIdleTimeoutWithoutAnAnswer() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        proxy.advance(by: ProxyConnection.idleTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive, "keep-alive idleness is bounded by the idle timeout, not the header timeout")
        proxy.advance(by: .milliseconds(1))
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(try proxy.output(), "")
    }

    func testAConnectionThatKeepsSendingRequestsStaysOpen() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        for _ in 0..<12 {
            try proxy.send(get("/hello"))
            XCTAssertEqual(try proxy.output(), helloReply)
            XCTAssertTrue(proxy.channel.isActive)
            proxy.advance(by: .seconds(5))
        }
        XCTAssertTrue(proxy.channel.isActive)
    }

    /// The idle timeout is the client's: a request waiting on its stage (or upstream) past it
    /// is not cut.
    func testARequestInFlightLongerThanTheIdleTimeoutIsNotCut() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held"))
        proxy.advance(by: ProxyConnection.idleTimeout * 3)
        XCTAssertTrue(proxy.channel.isActive)
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply)
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    /// The connection's deadline timer is re-armed after each check: a connection active before
    /// its first check (at opening + header timeout) still closes once idle for the timeout.
    /// (It was once armed a single time, so such a connection never closed.)
    func testAConnectionIdleAfterItsFirstCheckClosesAtTheIdleTimeout() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        proxy.advance(by: .seconds(3))
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        proxy.advance(by: ProxyConnection.idleTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.advance(by: .milliseconds(1))
        XCTAssertFalse(proxy.channel.isActive, "the timer was re-armed after its first check and closes at 13 s")
    }

    // MARK: Request header timeout

    /// The first request's head clock starts with the connection: nothing sent → 408 and close.
    func testAConnectionThatSendsNoRequestGets408AtTheHeaderTimeout() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        proxy.advance(by: ProxyConnection.headerTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.advance(by: .milliseconds(1))
        XCTAssertEqual(try proxy.output(), headerTimeoutReply)
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.context.stats.counters["downstream_request_header_timeout"], 1)
    }

    /// A later request's head clock starts with its first byte, not with the end of the
    /// answer before it; bytes that trickle in do not move it.
    func testAHeadTrickledInGets408AtTheHeaderTimeoutFromItsFirstByte() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        // Idle for longer than the header timeout: that is the idle timeout's business.
        proxy.advance(by: .seconds(6))
        XCTAssertTrue(proxy.channel.isActive)
        let head = Array("GET /hello HTTP/1.1\r\nhost: example.com\r\nx-slow: 1".utf8)
        for byte in head.prefix(4) {
            try proxy.send(String(decoding: [byte], as: UTF8.self))
            proxy.advance(by: .seconds(1) - .milliseconds(1))
        }
        XCTAssertTrue(proxy.channel.isActive)
        XCTAssertEqual(try proxy.output(), "")
        proxy.advance(by: .milliseconds(4))
        XCTAssertEqual(try proxy.output(), headerTimeoutReply)
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.context.stats.counters["downstream_request_header_timeout"], 1)
        XCTAssertNil(proxy.context.stats.counters["downstream_bad_requests"], "a cut-off head is no bad request")
        XCTAssertEqual(proxy.socket.writesAfterClose, 0, "nothing is written into the closed channel")
    }

    /// A head that stalls while pipelined behind a request in flight: no 408 can go out
    /// before that request's answer, so its answer is the connection's last.
    func testAHeadStalledBehindARequestInFlightEndsTheConnectionAfterItsAnswer() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held"))
        try proxy.send("GET /hel")
        proxy.advance(by: ProxyConnection.headerTimeout)
        XCTAssertTrue(proxy.channel.isActive, "the request in flight still gets its answer")
        XCTAssertEqual(proxy.context.stats.counters["downstream_request_header_timeout"], 1)
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), reply("held\n", close: true))
        XCTAssertFalse(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: Request body timeout

    /// The body stalls before the connection's first check (a test below has one that
    /// stalls after it): 408, the exchange ends, the connection closes.
    func testARequestBodyStalledMidwayGets408AtTheBodyTimeout() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 10\r\n\r\n01234")
        proxy.advance(by: ProxyConnection.bodyTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.advance(by: .milliseconds(1))
        XCTAssertEqual(try proxy.output(), bodyTimeoutReply)
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.context.stats.counters["downstream_request_body_timeout"], 1)
        XCTAssertNil(proxy.context.stats.counters["downstream_bad_requests"], "a cut-off request is no bad request")
        XCTAssertEqual(proxy.socket.writesAfterClose, 0, "nothing is written into the closed channel")
        proxy.assertEveryExchangeEnded()
    }

    /// t=3 s a `POST /echo` head with `content-length: 10` and 5 body bytes, then nothing:
    /// 408 at 13 s.
    func testABodyStalledAfterTheFirstCheckGets408AtTheBodyTimeout() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        proxy.advance(by: .seconds(3))
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 10\r\n\r\n01234")
        proxy.advance(by: ProxyConnection.bodyTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.advance(by: .milliseconds(1))
        XCTAssertEqual(try proxy.output(), bodyTimeoutReply)
        XCTAssertFalse(proxy.channel.isActive, "the body stalled after the first check gets its 408 at 13 s")
    }

    func testAConnectionThatKeepsSendingItsBodyStaysOpen() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 20\r\n\r\n")
        // One byte every 5 s: 100 s in all, ten body timeouts, never 10 s without a byte.
        for _ in 0..<19 {
            proxy.advance(by: .seconds(5))
            try proxy.send("x")
            XCTAssertTrue(proxy.channel.isActive)
        }
        XCTAssertEqual(try proxy.output(), "")
        proxy.advance(by: .seconds(5))
        try proxy.send("x")
        let json = #"{"method":"POST","path":"/echo","headers":{"host":"example.com","content-length":"20"},"body":"xxxxxxxxxxxxxxxxxxxx"}"#
        XCTAssertEqual(try proxy.output(), reply(json + "\n", contentType: "application/json"))
        XCTAssertTrue(proxy.channel.isActive)
    }

    /// A body this side stopped reading (its stage holds the request and 256 KiB are
    /// buffered) is not the client's stall: the body timeout does not apply while reads are
    /// withheld, and its clock starts again when they resume.
    func testABodyWithheldByBackpressureIsNotTimedOut() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * 1024)
        try proxy.send("POST /held HTTP/1.1\r\nhost: example.com\r\ncontent-length: \(6 * 64 * 1024)\r\n\r\n")
        for _ in 1...5 { try proxy.send(chunk) }
        proxy.advance(by: ProxyConnection.bodyTimeout * 3)
        XCTAssertTrue(proxy.channel.isActive, "reads withheld by the proxy must not time the client out")
        XCTAssertNil(proxy.context.stats.counters["downstream_request_body_timeout"])
        // Released: the stage lets the request on to its direct response, reads resume.
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply)
        proxy.advance(by: ProxyConnection.bodyTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive, "the body clock restarted when reads resumed")
        proxy.advance(by: .milliseconds(1))
        XCTAssertFalse(proxy.channel.isActive, "answered already: the stalled rest of the body ends in a close")
        XCTAssertEqual(try proxy.output(), "", "no 408 after an answer")
        XCTAssertEqual(proxy.context.stats.counters["downstream_request_body_timeout"], 1)
    }

    // MARK: Send timeout

    /// A response waiting on a client that reads nothing (the channel stays unwritable) for
    /// the send timeout: the connection closes and the exchange ends.
    func testAConnectionUnwritableForTheSendTimeoutCloses() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held"))
        proxy.channel.isWritable = false
        proxy.channel.pipeline.fireChannelWritabilityChanged()
        proxy.advance(by: ProxyConnection.sendTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.advance(by: .milliseconds(1))
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.context.stats.counters["downstream_send_timeout"], 1)
        proxy.assertEveryExchangeEnded()
    }

    /// Writable again before the timeout (the client read): progress, no close.
    func testAConnectionThatDrainsBeforeTheSendTimeoutStaysOpen() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held"))
        for _ in 0..<3 {
            proxy.channel.isWritable = false
            proxy.channel.pipeline.fireChannelWritabilityChanged()
            proxy.advance(by: ProxyConnection.sendTimeout - .seconds(1))
            proxy.channel.isWritable = true
            proxy.channel.pipeline.fireChannelWritabilityChanged()
            proxy.advance(by: .seconds(1))
        }
        XCTAssertTrue(proxy.channel.isActive)
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), heldReply)
        XCTAssertNil(proxy.context.stats.counters["downstream_send_timeout"])
    }

    // MARK: Drain

    func testDrainClosesAnIdleConnectionAtOnce() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/hello"))
        XCTAssertEqual(try proxy.output(), helloReply)
        XCTAssertTrue(proxy.context.connections[ObjectIdentifier(proxy.handler)] === proxy.handler)
        proxy.drain()
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(try proxy.output(), "")
        proxy.loop.run()
        XCTAssertTrue(proxy.context.connections.isEmpty)
    }

    func testDrainLetsARequestInFlightFinishWithConnectionCloseThenCloses() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(get("/held") + get("/hello"))
        proxy.drain()
        XCTAssertTrue(proxy.channel.isActive, "a busy connection finishes its answer first")
        XCTAssertEqual(try proxy.output(), "")
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), reply("held\n", close: true), "the request behind it is not served")
        XCTAssertFalse(proxy.channel.isActive)
        proxy.loop.run()
        XCTAssertTrue(proxy.context.connections.isEmpty)
        proxy.assertEveryExchangeEnded()
    }

    func testDrainLetsARequestWhoseBodyIsStillComingFinish() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        // The body is still coming when the drain starts: the connection is busy.
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 2\r\n\r\na")
        proxy.drain()
        XCTAssertTrue(proxy.channel.isActive)
        try proxy.send("b" + get("/hello"))
        let json = #"{"method":"POST","path":"/echo","headers":{"host":"example.com","content-length":"2"},"body":"ab"}"#
        XCTAssertEqual(try proxy.output(), reply(json + "\n", contentType: "application/json", close: true))
        XCTAssertFalse(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    // MARK: HEAD and HTTP/1.0

    func testTheAnswerToAHeadHasNoBody() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        // The direct response has a 6-byte body; the HEAD answer states its length, sends none,
        // and the next answer on the connection starts right after the head.
        try proxy.send("HEAD /hello HTTP/1.1\r\nhost: example.com\r\n\r\n" + get("/hello"))
        XCTAssertEqual(try proxy.output(), reply("hello\n", head: true) + helloReply)
        XCTAssertTrue(proxy.channel.isActive)
    }

    func testAnHTTP10RequestGetsAnHTTP10AnswerAndTheClose() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("GET /hello HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try proxy.output(), reply("hello\n", version: "HTTP/1.0", close: true))
        XCTAssertFalse(proxy.channel.isActive)
    }

    /// An HTTP/1.0 client asking for keep-alive is kept, and the answer says
    /// `connection: keep-alive`: without it the client takes the connection as closing
    /// (RFC 9112 §9.3) and cannot reuse it.
    func testAnHTTP10KeepAliveAnswerSaysKeepAlive() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("GET /hello HTTP/1.0\r\nconnection: keep-alive\r\n\r\n")
        let answer = try proxy.output()
        XCTAssertTrue(proxy.channel.isActive)
        XCTAssertEqual(answer, "HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 6\r\nconnection: keep-alive\r\n\r\nhello\n")
    }

    // MARK: 100-continue

    func testExpectContinueGetsAnInterimAnswerBeforeTheFinalOne() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try proxy.output(), "HTTP/1.1 100 Continue\r\n\r\n")
        try proxy.send("hello")
        // The expectation was met here: it is not passed on.
        let json = #"{"method":"POST","path":"/echo","headers":{"host":"example.com","content-length":"5"},"body":"hello"}"#
        XCTAssertEqual(try proxy.output(), reply(json + "\n", contentType: "application/json"))
        XCTAssertTrue(proxy.channel.isActive)
    }

    /// The route answers from the head alone: the body is never needed, so no `100 Continue`
    /// goes out, and since the client still holds its body back the answer is the last.
    func testExpectContinueOnARouteThatAnswersAtOnceGetsNo100AndTheConnectionCloses() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /hello HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try proxy.output(), reply("hello\n", close: true))
        XCTAssertFalse(proxy.channel.isActive)
    }

    /// The `100 Continue` waits until a stage asks for the body: none while the stage holds
    /// the request, then one when the echo reads it.
    func testExpectContinueIsAnsweredOnlyWhenTheBodyIsFirstNeeded() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /held-echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try proxy.output(), "", "no 100 before anything needs the body")
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), "HTTP/1.1 100 Continue\r\n\r\n")
        try proxy.send("hello")
        let json = #"{"method":"POST","path":"/held-echo","headers":{"host":"example.com","content-length":"5"},"body":"hello"}"#
        XCTAssertEqual(try proxy.output(), reply(json + "\n", contentType: "application/json"))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    /// A client waiting for its `100 Continue` owes no body yet: the body timeout starts only
    /// once the 100 went out.
    func testTheBodyTimeoutWaitsForThe100Continue() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /held-echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
        proxy.advance(by: ProxyConnection.bodyTimeout * 3)
        XCTAssertTrue(proxy.channel.isActive, "no 100 sent, so no body is late")
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), "HTTP/1.1 100 Continue\r\n\r\n")
        proxy.advance(by: ProxyConnection.bodyTimeout - .milliseconds(1))
        XCTAssertTrue(proxy.channel.isActive)
        proxy.advance(by: .milliseconds(1))
        XCTAssertEqual(try proxy.output(), bodyTimeoutReply)
        XCTAssertFalse(proxy.channel.isActive)
        proxy.assertEveryExchangeEnded()
    }

    /// A body-reading action (the echo) whose declared length exceeds
    /// `max_buffered_body_bytes` (1 MiB here) is refused from the head: 413 at once, no
    /// `100 Continue` before it, no wait for the body, and the connection closes.
    func testADeclaredLengthOverTheBufferingLimitGets413WithoutA100() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /echo HTTP/1.1\r\nhost: example.com\r\ncontent-length: 1048577\r\nexpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try proxy.output(), reply("body larger than the buffering limit of 1048576 bytes\n",
                                                 status: "413 Payload Too Large", close: true))
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(proxy.context.stats.counters["downstream_body_too_large"], 1)
        proxy.assertEveryExchangeEnded()
    }

    /// RFC 9110 §10.1.1: a server MUST ignore a 100-continue expectation in an HTTP/1.0 request;
    /// no `100 Continue` goes to such a client.
    func testAnHTTP10ExpectationIsIgnored() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send("POST /echo HTTP/1.0\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
        let interim = try proxy.output()
        XCTAssertEqual(interim, "", "no 100 for an HTTP/1.0 request")
    }
}
