@testable import LuxyCore
import NIOCore
import NIOEmbedded
import XCTest

/// `HTTP2HeaderBlockGuard` on an `EmbeddedChannel` with the test's clock: frame headers split
/// across reads at every byte, header blocks that finish and one that does not.
final class HTTP2HeaderBlockGuardTests: XCTestCase {
    private static let timeout = TimeAmount.seconds(10)

    private func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) -> [UInt8] {
        let length = payload.count
        return [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
                UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
            + payload
    }

    private let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private func channel() throws -> (EmbeddedChannel, ProxyStats) {
        let channel = EmbeddedChannel()
        let stats = ProxyStats()
        try channel.pipeline.syncOperations.addHandler(HTTP2HeaderBlockGuard(timeout: Self.timeout, stats: stats))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, stats)
    }

    /// Each byte in a read of its own: the guard must follow frame boundaries through any split.
    private func sendBytewise(_ bytes: [UInt8], to channel: EmbeddedChannel) throws {
        for byte in bytes {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            _ = try channel.readInbound(as: ByteBuffer.self)
        }
    }

    func testAHeaderBlockLeftOpenGetsGoAwayAndCloseAtTheTimeout() throws {
        let (channel, stats) = try channel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        // A complete block on stream 1, then stream 3's HEADERS without END_HEADERS.
        let bytes = preface + frame(type: 0x4, flags: 0, stream: 0, payload: [])
            + frame(type: 0x1, flags: 0x5, stream: 1, payload: [0x82, 0x86, 0x84])
            + frame(type: 0x0, flags: 0x1, stream: 1, payload: Array(repeating: 7, count: 40))
            + frame(type: 0x1, flags: 0x1, stream: 3, payload: [0x82])
        try sendBytewise(bytes, to: channel)
        channel.embeddedEventLoop.advanceTime(by: Self.timeout - .milliseconds(1))
        XCTAssertTrue(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        XCTAssertFalse(channel.isActive)
        let goAway = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
        XCTAssertEqual(Array(goAway.readableBytesView), [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xb],
                       "GOAWAY, last stream 1 (the one whose block completed), ENHANCE_YOUR_CALM")
        XCTAssertEqual(stats.counters["downstream_http2_header_block_timeout"], 1)
    }

    func testHeaderBlocksFinishedByContinuationArmNothingThatCloses() throws {
        let (channel, stats) = try channel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        let bytes = preface + frame(type: 0x1, flags: 0x1, stream: 1, payload: [0x82])
            + frame(type: 0x9, flags: 0, stream: 1, payload: [0x86])
            + frame(type: 0x9, flags: 0x4, stream: 1, payload: [0x84])
            + frame(type: 0x1, flags: 0x4, stream: 3, payload: [])
        try sendBytewise(bytes, to: channel)
        channel.embeddedEventLoop.advanceTime(by: Self.timeout * 3)
        XCTAssertTrue(channel.isActive, "every header block finished")
        XCTAssertNil(stats.counters["downstream_http2_header_block_timeout"])
    }

    /// The block's clock starts with its HEADERS frame, not with the connection.
    func testTheClockStartsWithTheHeadersFrame() throws {
        let (channel, _) = try channel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.writeInbound(ByteBuffer(bytes: preface))
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        try channel.writeInbound(ByteBuffer(bytes: frame(type: 0x1, flags: 0, stream: 1, payload: [0x82])))
        channel.embeddedEventLoop.advanceTime(by: Self.timeout - .milliseconds(1))
        XCTAssertTrue(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        XCTAssertFalse(channel.isActive)
    }
}
