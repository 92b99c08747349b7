import NIOCore
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// A head forwarded as it came (`UpstreamResponseHeadParser.parseForwarding`) must be, byte
/// for byte, what the client got when the head was read into an `HTTPResponseHead`, stripped
/// and encoded again; and everything that path would read differently goes to it instead.
final class ForwardedResponseHeadTests: XCTestCase {
    private let headBuffer = ReusedHeadBuffer()

    private func forwarded(_ text: String, method: HTTPMethod = .GET) -> UpstreamResponseHeadParser.ParsedForwardedHead? {
        let output = ByteBufferAllocator().buffer(capacity: 64)
        guard case .parsed(let head) = UpstreamResponseHeadParser.parseForwarding(
            ByteBuffer(string: text), respondingTo: method, into: output)
        else { return nil }
        return head
    }

    /// The bytes the client gets the usual way: the head parsed, stripped, encoded.
    private func encoded(_ text: String, closing: Bool, body: ByteBuffer? = nil) throws -> ByteBuffer {
        guard case .parsed(var parsed) = UpstreamResponseHeadParser.parse(ByteBuffer(string: text), respondingTo: .GET)
        else { throw XCTSkip("not parsed") }
        HopByHopHeaders.strip(&parsed.head.headers)
        parsed.head.version = .http1_1
        if closing { parsed.head.headers.replaceOrAdd(name: "connection", value: "close") }
        var encoder = HTTP1ResponseEncoder(headBuffer: headBuffer)
        return encoder.encodeHead(parsed.head, respondingTo: .GET, allocator: ByteBufferAllocator(), body: body).bytes
    }

    func testAForwardedHeadIsTheEncodedHeadByteForByte() throws {
        let heads = [
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 14:00:00 GMT\r\nContent-Type: text/plain\r\n"
                + "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
            "HTTP/1.1 404 Whatever The Upstream Says\r\ncontent-length: 0\r\nx-a:  one two \t\r\nx-a:2\r\n\r\n",
            "HTTP/1.0 503 Service Unavailable\r\nKeep-Alive: timeout=5\r\ncontent-length: 4\r\nConnection: keep-alive\r\n"
                + "Proxy-Authenticate: Basic\r\nx-empty:\r\n\r\nbusy",
            "HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\nUpgrade: h2c\r\n\r\n",
            "HTTP/1.1 200 Fine Here\r\nx-upstream: u\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n"
                + "Proxy-Authenticate: Basic\r\nx-a:  spaced\r\nTrailer: x-t\r\ncontent-length: 2\r\nx-b: 2\r\n\r\nok",
        ]
        for text in heads {
            for closing in [false, true] {
                let read = try XCTUnwrap(forwarded(text), text.debugDescription)
                var encoder = HTTP1ResponseEncoder(headBuffer: headBuffer)
                let bytes = encoder.completeForwardedHead(read.head, closing: closing).bytes
                XCTAssertEqual(String(buffer: bytes), String(buffer: try encoded(text, closing: closing)),
                               text.debugDescription)
                XCTAssertEqual(encoder.framing, .contentLength)
            }
            guard case .parsed(let parsed) = UpstreamResponseHeadParser.parse(ByteBuffer(string: text), respondingTo: .GET)
            else { return XCTFail("not parsed") }
            let read = try XCTUnwrap(forwarded(text))
            XCTAssertEqual(read.headLength, parsed.headLength)
            XCTAssertEqual(read.bodyLength, parsed.bodyLength)
            XCTAssertEqual(read.keepAlive, parsed.keepAlive)
            XCTAssertEqual(read.head.status, parsed.head.status)
        }
    }

    func testASmallBodyGoesInTheHeadsBuffer() throws {
        let text = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
        let read = try XCTUnwrap(forwarded(text))
        var encoder = HTTP1ResponseEncoder(headBuffer: headBuffer)
        let small = encoder.completeForwardedHead(read.head, closing: false, body: ByteBuffer(string: "hello"))
        XCTAssertTrue(small.carriesBody)
        XCTAssertEqual(String(buffer: small.bytes), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
        let large = ByteBuffer(repeating: UInt8(ascii: "a"), count: HTTP1ResponseEncoder.maximumJoinedBodyBytes + 1)
        let separate = encoder.completeForwardedHead(try XCTUnwrap(forwarded(text)).head, closing: false, body: large)
        XCTAssertFalse(separate.carriesBody, "a larger body is written on its own, not copied")
        XCTAssertEqual(String(buffer: separate.bytes), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    }

    /// What the head path reads differently, or only it can strip, is left to it.
    func testWhatTheHeadPathRewritesIsLeftToIt() {
        let leftToParse: [(String, HTTPMethod)] = [
            ("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n", .HEAD),
            ("HTTP/1.1 204 No Content\r\n\r\n", .GET),
            ("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n", .GET),
            ("HTTP/1.1 200 OK\r\nx-secret: 1\r\nConnection: keep-alive, X-Secret\r\ncontent-length: 0\r\n\r\n", .GET),
            ("HTTP/1.1 200 OK\r\nTE: trailers\r\ncontent-length: 0\r\n\r\n", .GET),
            ("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n", .GET),
            ("HTTP/1.1 100 Continue\r\n\r\n", .GET),
            ("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n", .GET),
            ("hello", .GET),
        ]
        for (text, method) in leftToParse {
            let output = ByteBufferAllocator().buffer(capacity: 64)
            switch UpstreamResponseHeadParser.parseForwarding(ByteBuffer(string: text), respondingTo: method, into: output) {
            case .parsed: XCTFail("forwarded: \(text.debugDescription)")
            case .parseInstead(let unused): XCTAssertGreaterThanOrEqual(unused.capacity, 64, "the buffer comes back")
            }
        }
    }
}
