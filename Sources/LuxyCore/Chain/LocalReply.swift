import NIOCore
import NIOHTTP1

/// Responses Luxy makes itself: errors, direct responses, echo.
enum LocalReply {
    static func make(_ status: HTTPResponseStatus, body: String, contentType: String = "text/plain",
                     close: Bool = false) -> (head: HTTPResponseHead, body: ByteBuffer) {
        let buffer = ByteBuffer(string: body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(buffer.readableBytes))
        if close { headers.add(name: "connection", value: "close") }
        return (HTTPResponseHead(version: .http1_1, status: status, headers: headers), buffer)
    }

    static func error(_ status: HTTPResponseStatus, _ reason: String, close: Bool = false)
        -> (head: HTTPResponseHead, body: ByteBuffer) {
        make(status, body: reason + "\n", close: close)
    }
}
