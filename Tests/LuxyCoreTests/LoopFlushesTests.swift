@testable import LuxyCore
import NIOCore
import NIOEmbedded
import XCTest

/// Answers are flushed at the end of the loop's turn (`LoopFlushes`): what a turn answered on
/// a connection goes out in one flush once the turn's events were handled, and a connection
/// closed within the turn of its answer still sends it.
final class LoopFlushesTests: XCTestCase {
    private let hello = "GET /hello HTTP/1.1\r\nhost: example.com\r\n\r\n"

    func testTheAnswersOfATurnGoOutInOneFlushAtItsEnd() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        // Three pipelined requests in one read, answered in it: nothing is flushed yet.
        try proxy.channel.writeInbound(ByteBuffer(string: hello + hello + hello))
        XCTAssertNil(try proxy.channel.readOutbound(as: ByteBuffer.self), "flushed before the turn ended")
        XCTAssertEqual(proxy.socket.flushes, 0)
        // The turn ends: its queued tasks run, the flush among them.
        proxy.loop.run()
        XCTAssertEqual(proxy.socket.flushes, 1)
        XCTAssertEqual(try proxy.output(), helloReply + helloReply + helloReply)
    }

    func testEachTurnFlushesItsOwnAnswers() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(hello)
        XCTAssertEqual(try proxy.output(), helloReply)
        try proxy.send(hello)
        XCTAssertEqual(try proxy.output(), helloReply)
        XCTAssertEqual(proxy.socket.flushes, 2)
    }

    /// The drain closes an idle connection at once; here the connection became idle within the
    /// turn, its answer written and its flush waiting for the turn's end. The close sends it.
    func testAConnectionClosedInTheTurnOfItsAnswerStillSendsIt() throws {
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.channel.writeInbound(ByteBuffer(string: hello))
        proxy.drain()
        XCTAssertFalse(proxy.channel.isActive)
        XCTAssertEqual(try proxy.output(), helloReply)
        XCTAssertEqual(proxy.socket.writesAfterClose, 0)
    }
}
