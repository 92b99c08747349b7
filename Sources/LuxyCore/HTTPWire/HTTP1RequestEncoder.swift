import NIOCore
import NIOHTTP1

/// Turns the requests sent on one upstream HTTP/1.1 connection into bytes, in the connection
/// handler. Framing follows NIO's `HTTPRequestEncoder`: POST, PUT and PATCH always get a
/// length or chunks; other methods have a body only when their head says so.
struct HTTP1RequestEncoder {
    private(set) var framing = HTTP1BodyFraming.none
    private let headBuffer: ReusedHeadBuffer

    /// `headBuffer`: the one the loop's connections share.
    init(headBuffer: ReusedHeadBuffer) {
        self.headBuffer = headBuffer
    }

    /// The request's head went as the client sent it (`ForwardedRequestHead`); its body is
    /// framed as that head says.
    mutating func forwards(bodyFramed framing: HTTP1BodyFraming) {
        self.framing = framing
    }

    mutating func encodeHead(_ head: HTTPRequestHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        var headers = head.headers
        let body: HTTP1BodyFraming.BodyExpectation
        switch head.method {
        case .TRACE: body = .no
        case .POST, .PUT, .PATCH: body = .yes
        default: body = .unlikely
        }
        // A request body never runs to the close.
        framing = HTTP1BodyFraming.frame(&headers, expecting: body, version: head.version)
        if case .untilClose = framing { framing = .none }

        var buffer = headBuffer.take(capacity: 64 + head.uri.utf8.count + headers.count * 32, allocator: allocator)
        buffer.writeString(head.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(head.uri)
        buffer.writeStaticString(head.version.minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n")
        buffer.writeHeaderFields(headers)
        headBuffer.keep(buffer)
        return buffer
    }
}
