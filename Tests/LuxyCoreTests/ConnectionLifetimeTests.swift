@testable import LuxyCore
import NIOCore
import NIOEmbedded
import XCTest

/// A client connection's handler, its fast path and its exchange's driver hold each other
/// strongly while the connection serves (so reaching one another costs no reference
/// counting); these check that every way a handler leaves its pipeline lets them all go.
final class ConnectionLifetimeTests: XCTestCase {
    /// What a test keeps of a connection after the connection itself is gone.
    private struct Remains {
        weak var handler: HTTPProxyHandler?
        weak var fastPath: RequestFastPath?
        weak var driver: HTTPExchangeDriver?
    }

    private let heldRequest = "GET /held HTTP/1.1\r\nhost: example.com\r\n\r\n"

    /// Runs `body` on a connection with one request held in flight by a stage, and returns
    /// weak references to what it was made of once the connection, its channel and the held
    /// request are let go.
    private func remains(after body: (ProxyConnection) throws -> Void) throws -> Remains {
        var remains = Remains()
        try {
            let proxy = try ProxyConnection()
            try proxy.send(heldRequest)
            remains.handler = proxy.handler
            remains.fastPath = try proxy.channel.pipeline.syncOperations.handler(type: RequestFastPath.self)
            remains.driver = proxy.handler.driver
            XCTAssertNotNil(remains.driver, "the request is in flight")
            try body(proxy)
            try proxy.finish()
        }()
        return remains
    }

    func testAClientLeavingMidRequestLetsGoOfTheHandlerItsFastPathAndTheDriver() throws {
        // The channel closes under the request (`finish`).
        let remains = try remains { _ in }
        XCTAssertNil(remains.driver)
        XCTAssertNil(remains.fastPath)
        XCTAssertNil(remains.handler)
    }

    /// An upgrade hands the connection to a tunnel by taking the HTTP handlers out of a
    /// pipeline that stays open: no `channelInactive` reaches them, so leaving the pipeline
    /// alone must end the cycles.
    func testAHandlerTakenOutOfAnOpenPipelineLetsGoOfItsDriver() throws {
        let remains = try remains { proxy in
            let sync = proxy.channel.pipeline.syncOperations
            try sync.removeHandler(context: sync.context(handlerType: HTTPProxyHandler.self)).wait()
            try sync.removeHandler(context: sync.context(handlerType: RequestFastPath.self)).wait()
            XCTAssertTrue(proxy.channel.isActive)
        }
        XCTAssertNil(remains.driver)
        XCTAssertNil(remains.fastPath)
        XCTAssertNil(remains.handler)
    }

    func testAnAnsweredRequestLetsGoOfItsDriverWhileTheConnectionStaysOpen() throws {
        weak var driver: HTTPExchangeDriver?
        let proxy = try ProxyConnection()
        defer { try? proxy.finish() }
        try proxy.send(heldRequest)
        driver = proxy.handler.driver
        XCTAssertNotNil(driver)
        proxy.holds.release()
        XCTAssertEqual(try proxy.output(), reply("held\n"))
        XCTAssertNil(proxy.handler.driver)
        XCTAssertNil(driver, "the finished driver is gone though its handler lives on")
    }
}
