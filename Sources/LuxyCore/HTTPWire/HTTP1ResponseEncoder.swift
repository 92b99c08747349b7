import NIOCore
import NIOHTTP1

/// Turns the responses of one HTTP/1.1 connection into bytes, in the connection handler rather
/// than in a pipeline handler of its own. Framing follows NIO's `HTTPResponseEncoder`: a
/// response that may have a body gets `content-length` or else `transfer-encoding: chunked`
/// (or, to an HTTP/1.0 client, runs to the close); answers to HEAD and CONNECT carry none.
struct HTTP1ResponseEncoder {
    private(set) var framing = HTTP1BodyFraming.none
    private let headBuffer: ReusedHeadBuffer

    /// `headBuffer`: the one the loop's connections share.
    init(headBuffer: ReusedHeadBuffer) {
        self.headBuffer = headBuffer
    }

    /// The head's bytes. `method` is the request's, which decides whether a body may follow.
    mutating func encodeHead(_ head: HTTPResponseHead, respondingTo method: HTTPMethod,
                             allocator: ByteBufferAllocator) -> ByteBuffer {
        var headers = head.headers
        let mayHaveBody = method != .CONNECT && head.status.mayHaveResponseBody
        framing = HTTP1BodyFraming.frame(&headers, expecting: mayHaveBody ? .yes : .no, version: head.version)
        // A HEAD's answer says what the body would be, but sends none.
        if method == .HEAD || method == .CONNECT { framing = .none }

        var buffer = headBuffer.take(capacity: 64 + headers.count * 32, allocator: allocator)
        buffer.writeStaticString(head.version.minor == 0 && head.version.major == 1 ? "HTTP/1.0 " : "HTTP/1.1 ")
        buffer.writeDecimal(Int(head.status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(head.status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        buffer.writeHeaderFields(headers)
        headBuffer.keep(buffer)
        return buffer
    }

    /// `100 Continue`, written before the request body comes.
    static func continueHead(version: HTTPVersion) -> ByteBuffer {
        ByteBuffer(string: version.minor == 0 ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n")
    }
}
