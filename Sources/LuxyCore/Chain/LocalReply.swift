import NIOCore
import NIOHTTP1

/// A response Luxy makes itself: an error, a direct response, an echo, or what a stage
/// answers with (`exchange.localReply`). A value on the connection's loop.
public struct LocalReply {
    public var head: HTTPResponseHead
    public var body: ByteBuffer

    public init(head: HTTPResponseHead, body: ByteBuffer = ByteBuffer()) {
        self.head = head
        self.body = body
    }

    static func make(_ status: HTTPResponseStatus, body: String, contentType: String = "text/plain",
                     close: Bool = false) -> LocalReply {
        let buffer = ByteBuffer(string: body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        if close { headers.add(name: "connection", value: "close") }
        return LocalReply(head: HTTPResponseHead(version: .http1_1, status: status, headers: headers), body: buffer)
    }

    /// An error answer: the reason, one line, as the body.
    static func error(_ status: HTTPResponseStatus, _ reason: String, close: Bool = false) -> LocalReply {
        make(status, body: reason + "\n", close: close)
    }
}
