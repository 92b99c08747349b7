import NIOCore
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// The encoders write each head into the memory of the one before, once NIO let go of it.
final class ReusedHeadBufferTests: XCTestCase {
    private let allocator = ByteBufferAllocator()

    private func response(_ status: HTTPResponseStatus, _ fields: [(String, String)]) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status,
                         headers: HTTPHeaders(fields + [("content-length", "0")]))
    }

    private func baseAddress(_ buffer: ByteBuffer) -> UInt {
        buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    func testAHeadWrittenOutLendsItsMemoryToTheNext() {
        var encoder = HTTP1ResponseEncoder()
        // Large enough that its buffer's capacity tells it apart from a new one for a small head.
        var first: ByteBuffer? = encoder.encodeHead(response(.ok, [("x-a", String(repeating: "a", count: 1500))]),
                                                    respondingTo: .GET, allocator: allocator)
        let capacity = first!.capacity
        first = nil  // NIO wrote it to the socket and let go
        let second = encoder.encodeHead(response(.notFound, [("x-b", "2")]), respondingTo: .GET, allocator: allocator)
        XCTAssertEqual(second.capacity, capacity)
        XCTAssertGreaterThan(capacity, allocator.buffer(capacity: 64 + 2 * 32).capacity)
        XCTAssertEqual(String(buffer: second), "HTTP/1.1 404 Not Found\r\nx-b: 2\r\ncontent-length: 0\r\n\r\n")
    }

    func testAHeadStillHeldIsNeverOverwritten() {
        var encoder = HTTP1RequestEncoder()
        let first = encoder.encodeHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/one",
                                                       headers: ["host": "a"]), allocator: allocator)
        // The next head comes while NIO still holds the first (a slow reader).
        let second = encoder.encodeHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/two",
                                                        headers: ["host": "b"]), allocator: allocator)
        XCTAssertEqual(String(buffer: first), "GET /one HTTP/1.1\r\nhost: a\r\n\r\n")
        XCTAssertEqual(String(buffer: second), "GET /two HTTP/1.1\r\nhost: b\r\n\r\n")
        XCTAssertNotEqual(baseAddress(first), baseAddress(second))
    }

    func testALargeHeadIsNotKept() {
        var encoder = HTTP1ResponseEncoder()
        let long = String(repeating: "v", count: ReusedHeadBuffer.maximumKeptCapacity)
        var large: ByteBuffer? = encoder.encodeHead(response(.ok, [("x-long", long)]), respondingTo: .GET,
                                                    allocator: allocator)
        XCTAssertGreaterThan(large!.capacity, ReusedHeadBuffer.maximumKeptCapacity)
        large = nil
        // A connection that once sent a large head holds no large buffer for the rest of its life.
        let next = encoder.encodeHead(response(.ok, []), respondingTo: .GET, allocator: allocator)
        XCTAssertLessThanOrEqual(next.capacity, ReusedHeadBuffer.maximumKeptCapacity)
    }
}
