import NIOCore
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// The encoders write each head into the memory of the head written `ringLength` heads before
/// it, once NIO let go of that one: on the same connection or on another sharing the buffers.
final class ReusedHeadBufferTests: XCTestCase {
    private let allocator = ByteBufferAllocator()
    private let ring = ReusedHeadBuffer.ringLength

    private func response(_ status: HTTPResponseStatus, _ fields: [(String, String)]) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: status,
                         headers: HTTPHeaders(fields + [("content-length", "0")]))
    }

    private func baseAddress(_ buffer: ByteBuffer) -> UInt {
        buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    func testAHeadWrittenOutLendsItsMemoryToALaterOne() {
        var encoder = HTTP1ResponseEncoder(headBuffer: ReusedHeadBuffer())
        // Large enough that its buffer's capacity tells it apart from a new one for a small head.
        var first: ByteBuffer? = encoder.encodeHead(response(.ok, [("x-a", String(repeating: "a", count: 1500))]),
                                                    respondingTo: .GET, allocator: allocator).bytes
        let capacity = first!.capacity
        first = nil  // NIO wrote it to the socket and let go
        // The ring fills with new buffers, written out as they go.
        for _ in 1..<ring {
            let small = encoder.encodeHead(response(.ok, []), respondingTo: .GET, allocator: allocator).bytes
            XCTAssertLessThan(small.capacity, capacity)
        }
        let reused = encoder.encodeHead(response(.notFound, [("x-b", "2")]), respondingTo: .GET, allocator: allocator).bytes
        XCTAssertEqual(reused.capacity, capacity)
        XCTAssertGreaterThan(capacity, allocator.buffer(capacity: 64 + 2 * 32).capacity)
        XCTAssertEqual(String(buffer: reused), "HTTP/1.1 404 Not Found\r\nx-b: 2\r\ncontent-length: 0\r\n\r\n")
    }

    func testAHeadStillHeldIsNeverOverwritten() {
        var encoder = HTTP1RequestEncoder(headBuffer: ReusedHeadBuffer())
        let first = encoder.encodeHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/one",
                                                       headers: ["host": "a"]), allocator: allocator)
        for _ in 1..<ring {
            _ = encoder.encodeHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": "c"]),
                                   allocator: allocator)
        }
        // The head whose turn it is to reuse the first's memory comes while NIO still holds the
        // first (a slow reader).
        let later = encoder.encodeHead(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/two",
                                                       headers: ["host": "b"]), allocator: allocator)
        XCTAssertEqual(String(buffer: first), "GET /one HTTP/1.1\r\nhost: a\r\n\r\n")
        XCTAssertEqual(String(buffer: later), "GET /two HTTP/1.1\r\nhost: b\r\n\r\n")
        XCTAssertNotEqual(baseAddress(first), baseAddress(later))
    }

    func testALargeHeadIsNotKept() {
        var encoder = HTTP1ResponseEncoder(headBuffer: ReusedHeadBuffer())
        let long = String(repeating: "v", count: ReusedHeadBuffer.maximumKeptCapacity)
        var large: ByteBuffer? = encoder.encodeHead(response(.ok, [("x-long", long)]), respondingTo: .GET,
                                                    allocator: allocator).bytes
        XCTAssertGreaterThan(large!.capacity, ReusedHeadBuffer.maximumKeptCapacity)
        large = nil
        // A connection that once sent a large head holds no large buffer for the rest of its life.
        let next = encoder.encodeHead(response(.ok, []), respondingTo: .GET, allocator: allocator).bytes
        XCTAssertLessThanOrEqual(next.capacity, ReusedHeadBuffer.maximumKeptCapacity)
    }

    func testConnectionsSharingTheBufferReuseEachOthersMemory() {
        let shared = ReusedHeadBuffer()
        var first = HTTP1ResponseEncoder(headBuffer: shared)
        var second = HTTP1ResponseEncoder(headBuffer: shared)
        let large = response(.ok, [("x-a", String(repeating: "a", count: 1500))])

        // The first connection writes a large head, which goes out; the second connection then
        // writes the rest of the ring.
        var written: ByteBuffer? = first.encodeHead(large, respondingTo: .GET, allocator: allocator).bytes
        let capacity = written!.capacity
        written = nil
        for _ in 1..<ring {
            let other = second.encodeHead(response(.accepted, []), respondingTo: .GET, allocator: allocator).bytes
            XCTAssertLessThan(other.capacity, capacity, "a new buffer, sized for the small head")
        }
        // The second connection's next head goes into the first connection's memory.
        let next = second.encodeHead(response(.ok, []), respondingTo: .GET, allocator: allocator).bytes
        XCTAssertEqual(next.capacity, capacity)
        XCTAssertEqual(String(buffer: next), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    }

    private func head(contentLength: Int?) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: .ok,
                         headers: HTTPHeaders(contentLength.map { [("content-length", "\($0)")] } ?? []))
    }

    func testASmallBodyGoesOutInTheHeadsBuffer() {
        var encoder = HTTP1ResponseEncoder(headBuffer: ReusedHeadBuffer())
        let encoded = encoder.encodeHead(head(contentLength: 3), respondingTo: .GET, allocator: allocator,
                                         body: ByteBuffer(string: "ok\n"))
        XCTAssertTrue(encoded.carriesBody)
        XCTAssertEqual(String(buffer: encoded.bytes), "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n")
    }

    func testABodyThatIsNotSentAsItIsOrIsLargeStaysApart() {
        var encoder = HTTP1ResponseEncoder(headBuffer: ReusedHeadBuffer())
        // No length: chunked, so the body needs its chunk framing.
        let chunked = encoder.encodeHead(head(contentLength: nil), respondingTo: .GET, allocator: allocator,
                                         body: ByteBuffer(string: "ok\n"))
        XCTAssertFalse(chunked.carriesBody)
        XCTAssertEqual(String(buffer: chunked.bytes), "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        // A HEAD's answer sends no body at all.
        let toHEAD = encoder.encodeHead(head(contentLength: 3), respondingTo: .HEAD, allocator: allocator,
                                        body: ByteBuffer(string: "ok\n"))
        XCTAssertFalse(toHEAD.carriesBody)
        XCTAssertEqual(String(buffer: toHEAD.bytes), "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\n")
        // Larger than the limit: its own write, not a copy.
        let size = HTTP1ResponseEncoder.maximumJoinedBodyBytes + 1
        let large = encoder.encodeHead(head(contentLength: size), respondingTo: .GET, allocator: allocator,
                                       body: ByteBuffer(repeating: 0x61, count: size))
        XCTAssertFalse(large.carriesBody)
        XCTAssertEqual(String(buffer: large.bytes), "HTTP/1.1 200 OK\r\ncontent-length: \(size)\r\n\r\n")
    }
}
