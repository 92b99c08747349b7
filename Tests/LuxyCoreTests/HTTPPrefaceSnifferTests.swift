@testable import LuxyCore
import NIOCore
import NIOEmbedded
import XCTest

/// The h2c-or-HTTP/1.1 decision on a plain port, on an EmbeddedChannel.
final class HTTPPrefaceSnifferTests: XCTestCase {
    private let preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    func testVerdictNeedsOnlyTheBytesThatDecide() {
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: "G")), false)
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: "P")), nil)
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: "PO")), false, "POST")
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: "PRI * HTTP/2.0\r\n")), nil)
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: preface)), true)
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: preface + "extra")), true)
        XCTAssertEqual(HTTPPrefaceSniffer.verdict(ByteBuffer(string: "PRI * HTTP/1.1\r\n")), false)
    }

    func testHandsEveryByteToTheChosenPipelineAndLeaves() throws {
        let channel = EmbeddedChannel()
        let chosen = NIOLoopBoundBox<Bool?>(nil, eventLoop: channel.eventLoop)
        let sniffer = HTTPPrefaceSniffer(timeout: .seconds(60), stats: ProxyStats()) { isHTTP2, _ in chosen.value = isHTTP2 }
        try channel.pipeline.syncOperations.addHandler(sniffer)
        // The preface split over three reads: nothing is decided or passed on before the end.
        try channel.writeInbound(ByteBuffer(string: "PRI * HT"))
        try channel.writeInbound(ByteBuffer(string: "TP/2.0\r\n\r\n"))
        XCTAssertNil(chosen.value)
        XCTAssertNil(try channel.readInbound(as: ByteBuffer.self))
        try channel.writeInbound(ByteBuffer(string: "SM\r\n\r\nFRAMES"))
        XCTAssertEqual(chosen.value, true)
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) }, preface + "FRAMES")
        XCTAssertThrowsError(try channel.pipeline.syncOperations.handler(type: HTTPPrefaceSniffer.self))
        // Later bytes flow straight through.
        try channel.writeInbound(ByteBuffer(string: "more"))
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) }, "more")
        _ = try channel.finish()
    }

    func testHTTP11IsChosenAtTheFirstDifferentByte() throws {
        let channel = EmbeddedChannel()
        let chosen = NIOLoopBoundBox<Bool?>(nil, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(
            HTTPPrefaceSniffer(timeout: .seconds(60), stats: ProxyStats()) { isHTTP2, _ in chosen.value = isHTTP2 })
        try channel.writeInbound(ByteBuffer(string: "PUT"))
        XCTAssertEqual(chosen.value, false)
        XCTAssertEqual(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) }, "PUT")
        _ = try channel.finish()
    }

    /// A client that sends too little to tell the protocol (here a part of the preface)
    /// is closed when the timeout passes, and counted.
    func testASilentClientIsClosedAfterTheTimeout() throws {
        let channel = EmbeddedChannel()
        let stats = ProxyStats()
        try channel.pipeline.syncOperations.addHandler(HTTPPrefaceSniffer(timeout: .seconds(5), stats: stats) { _, _ in })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(string: "PRI * HTTP"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(5) - .milliseconds(1))
        XCTAssertTrue(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        XCTAssertFalse(channel.isActive)
        XCTAssertEqual(stats.counters["downstream_preface_timeout"], 1)
    }
}
