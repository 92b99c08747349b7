import NIOCore
import NIOHTTP1

/// How one HTTP/1.1 message body is delimited on the wire, decided once from its head (RFC 9112
/// §6). The encoders pick it with the rules NIO's encoders use, so what goes out is what NIO
/// would write, without a channel handler (and its wrapping and casting) per message part.
enum HTTP1BodyFraming {
    /// No body bytes at all: a HEAD or CONNECT answer, 1xx/204/304, a request without length fields.
    case none
    case contentLength
    case chunked
    /// An HTTP/1.0 response without a length: the body runs until the connection closes.
    case untilClose

    /// The body's bytes go out as they are, with nothing around them.
    var sendsBodyAsItIs: Bool {
        switch self {
        case .contentLength, .untilClose: true
        case .none, .chunked: false
        }
    }

    /// Writes one body part as the framing wants it through `write`: a chunk is its size
    /// line, the part itself (not copied) and a CRLF.
    func writeBody(_ part: ByteBuffer, allocator: ByteBufferAllocator, _ write: (ByteBuffer) -> Void) {
        switch self {
        case .none:
            return
        case .contentLength, .untilClose:
            write(part)
        case .chunked:
            // An empty chunk would end the body.
            guard part.readableBytes > 0 else { return }
            var size = allocator.buffer(capacity: 24)
            size.writeHexadecimal(part.readableBytes)
            size.writeStaticString("\r\n")
            write(size)
            write(part)
            write(Self.crlf)
        }
    }

    /// The end of the body: the last chunk and trailers when chunked, nothing otherwise
    /// (trailers cannot travel without chunks).
    func endBody(trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard case .chunked = self else { return nil }
        guard let trailers, !trailers.isEmpty else { return Self.lastChunk }
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeStaticString("0\r\n")
        buffer.writeHeaderFields(trailers)
        return buffer
    }

    /// Whether a message may carry a body, as NIO's encoders tell it apart.
    enum BodyExpectation {
        /// Never (TRACE, a response to CONNECT, 1xx/204/304): length fields are dropped.
        case no
        /// POST, PUT, PATCH and responses: a length, or else chunks (or the close, on HTTP/1.0).
        case yes
        /// Other requests: a body only when the head announces one.
        case unlikely
    }

    /// NIO's `correctlyFrameTransportHeaders`: fixes the head's framing fields to match and
    /// returns the framing its body gets. A field is only removed when present, so a head
    /// shared with someone else is not copied for nothing.
    static func frame(_ headers: inout HTTPHeaders, expecting body: BodyExpectation, version: HTTPVersion)
        -> HTTP1BodyFraming {
        let atLeast11 = version.major > 1 || (version.major == 1 && version.minor >= 1)
        switch body {
        case .no:
            headers.removeIfPresent("content-length")
            headers.removeIfPresent("transfer-encoding")
            return .none
        case _ where headers.contains(name: "content-length"):
            headers.removeIfPresent("transfer-encoding")
            return .contentLength
        case .yes:
            guard atLeast11 else { return .untilClose }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            return .chunked
        case .unlikely:
            return atLeast11 && headers.first(name: "transfer-encoding") == "chunked" ? .chunked : .none
        }
    }

    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")
}
