import NIOCore
import NIOHTTP1

/// Turns the requests sent on one upstream HTTP/1.1 connection into bytes, in the connection
/// handler. Framing follows NIO's `HTTPRequestEncoder`: POST, PUT and PATCH always get a
/// length or chunks; other methods have a body only when their head says so.
struct HTTP1RequestEncoder {
    private(set) var framing = HTTP1BodyFraming.none

    mutating func encodeHead(_ head: HTTPRequestHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        var headers = head.headers
        switch head.method {
        case .TRACE:
            headers.removeIfPresent("content-length")
            headers.removeIfPresent("transfer-encoding")
            framing = .none
        case .POST, .PUT, .PATCH:
            if headers.contains(name: "content-length") {
                headers.removeIfPresent("transfer-encoding")
                framing = .contentLength
            } else {
                headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
                framing = .chunked
            }
        default:
            if headers.contains(name: "content-length") {
                headers.removeIfPresent("transfer-encoding")
                framing = .contentLength
            } else if headers.first(name: "transfer-encoding") == "chunked" {
                framing = .chunked
            } else {
                framing = .none
            }
        }

        var buffer = allocator.buffer(capacity: 64 + head.uri.utf8.count + headers.count * 32)
        buffer.writeString(head.method.rawValue)
        buffer.writeStaticString(" ")
        buffer.writeString(head.uri)
        buffer.writeStaticString(head.version.minor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n")
        buffer.writeHeaderFields(headers)
        return buffer
    }
}
