import NIOCore

/// Answers an HTTP/0.9 request line (`GET /`, no version) with 400 and closes. NIO's parser
/// would take it for the start of a 0.9 request and wait for a byte that such a client never
/// sends, so the client would hang until a timeout.
///
/// Looks at the connection's first read only, then leaves the pipeline: keep-alive requests
/// pay nothing, and a version-less line later on a connection is bounded by the request
/// header timeout. On the connection's loop.
final class HTTP09Refusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let reply: String = {
        let body = "HTTP/0.9 is not supported\n"
        return "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: \(body.utf8.count)\r\n"
            + "connection: close\r\n\r\n" + body
    }()

    private let stats: ProxyStats

    init(stats: ProxyStats) {
        self.stats = stats
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard Self.isHTTP09RequestLine(Self.unwrapInboundIn(data)) else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        stats.increment("downstream_http09_refused")
        let reply = context.channel.allocator.buffer(string: Self.reply)
        context.writeAndFlush(NIOAny(reply)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// The first line is complete and has a method and a target but no version: fewer than
    /// two spaces before its line feed. A line still incomplete in the first read is left to
    /// the parser.
    static func isHTTP09RequestLine(_ bytes: ByteBuffer) -> Bool {
        let view = bytes.readableBytesView
        guard let lineFeed = view.firstIndex(of: UInt8(ascii: "\n")) else { return false }
        var spaces = 0
        for byte in view[..<lineFeed] where byte == UInt8(ascii: " ") { spaces += 1 }
        return spaces == 1
    }
}

@available(*, unavailable)
extension HTTP09Refusal: Sendable {}
