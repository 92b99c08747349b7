@testable import LuxyCore
import NIOCore
import NIOEmbedded
import XCTest

/// How a request's parts are flushed upstream: what came in one client read goes out in one
/// flush at the end of the loop's turn that read was in (a GET's head and end, a small POST's
/// head, body and end; `LoopFlushes`), and what came in a later read gets a flush of its own. The client connection is
/// `ProxyConnection`'s; the upstream one is a pool connection of the route's cluster on an
/// `EmbeddedChannel` of the same loop, with the handlers `UpstreamConnectionHandler.addHandlers`
/// adds behind a recorder of what reaches the socket.
final class UpstreamRequestFlushTests: XCTestCase {
    /// What reached the upstream socket, in order: `write <bytes>` and `flush`.
    private final class SocketRecorder: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private(set) var events: [String] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            events.append("write \(String(buffer: Self.unwrapOutboundIn(data)).debugDescription)")
            context.write(data, promise: promise)
        }

        func flush(context: ChannelHandlerContext) {
            events.append("flush")
            context.flush()
        }

        func takeEvents() -> [String] {
            defer { events.removeAll() }
            return events
        }
    }

    private var proxy: ProxyConnection!
    private var upstream: EmbeddedChannel!
    private var recorder: SocketRecorder!

    override func setUpWithError() throws {
        proxy = try ProxyConnection()
        upstream = EmbeddedChannel(loop: proxy.loop)
        recorder = SocketRecorder()
        let sync = upstream.pipeline.syncOperations
        try sync.addHandler(recorder)
        let connection = try UpstreamConnectionHandler.addHandlers(to: sync, shared: LoopShared(eventLoop: upstream.eventLoop),
                                                                   strings: RepeatedFieldStrings())
        try upstream.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        // A warm connection in the cluster's pool: the request takes it at once.
        let pool = try XCTUnwrap(proxy.generation.services.cluster(named: "backend")?.pools.first as? UpstreamPool)
        connection.pool = pool
        pool.release(connection)
        XCTAssertEqual(pool.idleCount, 1)
    }

    override func tearDownWithError() throws {
        _ = try? upstream.finish(acceptAlreadyClosed: true)
        try proxy.finish()
    }

    private func answer() throws {
        try upstream.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
        XCTAssertEqual(try proxy.output(), "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    }

    func testAGetGoesUpstreamInOneFlush() throws {
        try proxy.send("GET /up HTTP/1.1\r\nhost: example.com\r\n\r\n")
        XCTAssertEqual(recorder.takeEvents(), [
            #"write "GET /up HTTP/1.1\r\nhost: example.com\r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\n\r\n""#,
            "flush",
        ])
        try answer()
    }

    func testABodyInTheSameReadGoesInTheSameFlush() throws {
        try proxy.send("POST /up HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\nhello")
        let events = recorder.takeEvents()
        XCTAssertEqual(events.count, 3, "\(events)")
        XCTAssertEqual(events.dropFirst().map { $0 }, [#"write "hello""#, "flush"])
        try answer()
    }

    /// The chunked request goes through NIO's decoder rather than the fast path: the read's
    /// end still comes, and flushes once what the decoder delivered.
    func testAChunkedBodyReadByTheDecoderGoesInOneFlushPerRead() throws {
        try proxy.send("POST /up HTTP/1.1\r\nhost: example.com\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        let first = recorder.takeEvents()
        XCTAssertEqual(first.last, "flush")
        XCTAssertEqual(first.filter { $0 == "flush" }.count, 1, "\(first)")
        try proxy.send("0\r\n\r\n")
        XCTAssertEqual(recorder.takeEvents(), [#"write "0\r\n\r\n""#, "flush"])
        try answer()
    }

    func testABodyInALaterReadIsFlushedWithThatRead() throws {
        try proxy.send("POST /up HTTP/1.1\r\nhost: example.com\r\ncontent-length: 5\r\n\r\n")
        let head = recorder.takeEvents()
        XCTAssertEqual(head.count, 2, "\(head)")
        XCTAssertEqual(head.last, "flush", "the head goes before the body comes")
        try proxy.send("hello")
        XCTAssertEqual(recorder.takeEvents(), [#"write "hello""#, "flush"])
        try answer()
    }
}
