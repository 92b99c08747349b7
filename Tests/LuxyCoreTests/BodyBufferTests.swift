import NIOCore
import XCTest

@testable import LuxyCore

/// A body's buffer never calls a waiting stage itself: every change that ends the wait hands
/// the call back, to be made once the change is over.
final class BodyBufferTests: XCTestCase {
    private typealias Outcome = Result<ByteBuffer?, HTTPExchange.BodyError>

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// Records what the waiter was told, as a stage's completion would.
    private final class Waiter {
        var outcomes: [Outcome] = []
        var completion: BodyWaiter { { self.outcomes.append($0) } }
    }

    func testAWaitEndsWithTheCompleteBodyOnlyWhenTheCallIsMade() throws {
        var body = BodyBuffer()
        body.hasBody = true
        let waiter = Waiter()
        XCTAssertNil(body.whenComplete(limit: 100, waiter.completion), "the body is not here yet")
        XCTAssertNil(body.append(bytes("hello ")))
        XCTAssertNil(body.append(bytes("world")))
        let call = try XCTUnwrap(body.complete())
        XCTAssertTrue(waiter.outcomes.isEmpty, "completing the buffer must not call the waiter")
        call.run()
        guard case .success(let whole)? = waiter.outcomes.first else { return XCTFail("\(waiter.outcomes)") }
        XCTAssertEqual(whole.map { String(buffer: $0) }, "hello world")
        XCTAssertNil(body.complete(), "the waiter is told once")
    }

    func testABodyHereAlreadyIsAnsweredByTheReturnedCall() throws {
        var body = BodyBuffer()
        body.hasBody = true
        XCTAssertNil(body.append(bytes("abc")))
        XCTAssertNil(body.complete(), "no stage waits")
        let waiter = Waiter()
        try XCTUnwrap(body.whenComplete(limit: 100, waiter.completion)).run()
        guard case .success(let whole)? = waiter.outcomes.first else { return XCTFail("\(waiter.outcomes)") }
        XCTAssertEqual(whole.map { String(buffer: $0) }, "abc")
    }

    func testAMessageWithoutABodyGivesNil() throws {
        var body = BodyBuffer()
        let waiter = Waiter()
        try XCTUnwrap(body.whenComplete(limit: 100, waiter.completion)).run()
        guard case .success(let whole)? = waiter.outcomes.first else { return XCTFail("\(waiter.outcomes)") }
        XCTAssertNil(whole)
    }

    func testGrowingOverTheLimitFailsTheWaiterOnce() throws {
        var body = BodyBuffer()
        body.hasBody = true
        let waiter = Waiter()
        XCTAssertNil(body.whenComplete(limit: 4, waiter.completion))
        XCTAssertNil(body.append(bytes("abc")))
        XCTAssertFalse(body.isOverLimit)
        let call = try XCTUnwrap(body.append(bytes("de")))
        XCTAssertTrue(body.isOverLimit)
        XCTAssertTrue(body.overflowed)
        call.run()
        guard case .failure(.tooLarge(limit: 4))? = waiter.outcomes.first else { return XCTFail("\(waiter.outcomes)") }
        XCTAssertNil(body.append(bytes("f")), "failed once; nobody waits any more")
        XCTAssertEqual(waiter.outcomes.count, 1)
    }

    func testAnAbortFailsTheWaiter() throws {
        var body = BodyBuffer()
        body.hasBody = true
        let waiter = Waiter()
        XCTAssertNil(body.whenComplete(limit: 100, waiter.completion))
        try XCTUnwrap(body.abort()).run()
        guard case .failure(.aborted)? = waiter.outcomes.first else { return XCTFail("\(waiter.outcomes)") }
        XCTAssertNil(body.abort(), "nobody waits any more")
    }

    func testHandingOverGivesWhatWasBufferedAndWhetherItEnded() {
        var body = BodyBuffer()
        body.hasBody = true
        XCTAssertNil(body.append(bytes("part")))
        var handed = body.handOver()
        XCTAssertEqual(handed.buffered.map { String(buffer: $0) }, "part")
        XCTAssertFalse(handed.ended)
        XCTAssertEqual(body.bufferedBytes, 0)
        XCTAssertNil(body.complete())
        handed = body.handOver()
        XCTAssertNil(handed.buffered)
        XCTAssertTrue(handed.ended)
        XCTAssertFalse(body.isComplete, "the end is the stream's to pass on again")
    }
}
