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

    /// A body this small that is known with its head (a response read whole, a local reply)
    /// goes out in the head's buffer: one write through the pipeline instead of two, and one
    /// buffer for the socket instead of a gathering write. Small enough that the head buffer
    /// stays one the loop keeps for the next head (`ReusedHeadBuffer.maximumKeptCapacity`).
    static let maximumJoinedBodyBytes = 1024

    /// A head's bytes, and whether the body was written behind it.
    struct EncodedHead {
        var bytes: ByteBuffer
        var carriesBody: Bool
    }

    /// The head's bytes. `method` is the request's, which decides whether a body may follow.
    /// `body`, if given, is written behind the head when it goes out as it is (a
    /// `content-length` or close-delimited body) and is at most `maximumJoinedBodyBytes`.
    mutating func encodeHead(_ head: HTTPResponseHead, respondingTo method: HTTPMethod,
                             allocator: ByteBufferAllocator, body: ByteBuffer? = nil) -> EncodedHead {
        var headers = head.headers
        let mayHaveBody = method != .CONNECT && head.status.mayHaveResponseBody
        framing = HTTP1BodyFraming.frame(&headers, expecting: mayHaveBody ? .yes : .no, version: head.version)
        // A HEAD's answer says what the body would be, but sends none.
        if method == .HEAD || method == .CONNECT { framing = .none }
        let joined = framing.sendsBodyAsItIs ? Self.joinable(body) : nil
        var buffer = headBuffer.take(capacity: 64 + headers.count * 32 + (joined?.readableBytes ?? 0),
                                     allocator: allocator)
        buffer.writeStatusLine(version: head.version, status: head.status)
        buffer.writeHeaderFields(headers)
        return finish(consume buffer, joining: joined)
    }

    /// A head forwarded as it came (`ForwardedResponseHead`), completed: `connection: close`
    /// when `closing`, the blank line, and `body` behind it as `encodeHead` joins one. Its
    /// fields frame the body with `content-length` (the only framing such a head has).
    /// `head` is taken, not copied: its buffer is written to, which a second reference to its
    /// memory would make a copy of.
    mutating func completeForwardedHead(_ head: consuming ForwardedResponseHead, closing: Bool,
                                        body: ByteBuffer? = nil) -> EncodedHead {
        framing = .contentLength
        var buffer = (consume head).bytes
        if closing { buffer.writeStaticString("connection: close\r\n") }
        buffer.writeStaticString("\r\n")
        return finish(consume buffer, joining: Self.joinable(body))
    }

    /// A body small enough to go in its head's buffer.
    private static func joinable(_ body: ByteBuffer?) -> ByteBuffer? {
        body.flatMap { $0.readableBytes <= maximumJoinedBodyBytes ? $0 : nil }
    }

    /// The head's bytes with `joined` behind them, kept for a later head to reuse.
    private func finish(_ head: consuming ByteBuffer, joining joined: ByteBuffer?) -> EncodedHead {
        var buffer = consume head
        if let joined { buffer.writeImmutableBuffer(joined) }
        headBuffer.keep(buffer)
        return EncodedHead(bytes: buffer, carriesBody: joined != nil)
    }

    /// `100 Continue`, written before the request body comes.
    static func continueHead(version: HTTPVersion) -> ByteBuffer {
        ByteBuffer(string: version.minor == 0 ? "HTTP/1.0 100 Continue\r\n\r\n" : "HTTP/1.1 100 Continue\r\n\r\n")
    }
}
