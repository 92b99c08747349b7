import NIOCore
import NIOHTTP1
import NIOHTTP2

/// One request to an HTTP/2 upstream: the last handler of a stream channel, behind
/// `HTTP2FramePayloadToHTTP1ClientCodec`. The HTTP/2 counterpart of
/// `UpstreamConnectionHandler`, used only once: the stream closes with the response.
final class HTTP2UpstreamStream: ChannelInboundHandler, UpstreamConnection {
    /// A stream is new for every request; GOAWAY already tells which ones were not processed.
    var isReused: Bool { false }

    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var receiver: UpstreamResponseReceiver?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func begin(_ head: HTTPRequestHead, receiver: UpstreamResponseReceiver) {
        self.receiver = receiver
        // The codec turns `host` into `:authority` and drops HTTP/1 framing (transfer-encoding).
        send(.head(head), flush: false)
    }

    /// The h2 codec takes heads, not bytes.
    var writesHeadsAsBytes: Bool { false }

    /// Never asked (`writesHeadsAsBytes`): a head of bytes can't go on a stream, so the
    /// request fails rather than go without its forwarding fields.
    func begin(_ head: HTTPRequestHead, forwarded: ForwardedRequestHead, receiver: UpstreamResponseReceiver) {
        receiver.upstreamFailed(.reset)
    }

    func send(_ part: HTTPClientRequestPart, flush: Bool) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(Self.wrapOutboundOut(part), promise: nil)
        } else {
            context.write(Self.wrapOutboundOut(part), promise: nil)
        }
    }

    func flush() {
        context?.flush()
    }

    /// Cancels this stream (RST_STREAM); the connection and its other streams carry on.
    func abandon() {
        receiver = nil
        context?.close(promise: nil)
    }

    func setReading(_ reading: Bool) {
        // A paused stream stops returning window to the upstream: HTTP/2 flow control is
        // the backpressure, per stream.
        context?.channel.setOption(ChannelOptions.autoRead, value: reading).whenComplete { _ in }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            // 1xx heads are informational; the final one follows.
            guard head.status.code >= 200 else { return }
            receiver?.upstreamResponseHead(head)
        case .body(let body):
            receiver?.upstreamResponseBody(body)
        case .end(let trailers):
            let receiver = self.receiver
            self.receiver = nil
            receiver?.upstreamResponseEnd(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        receiver?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.reset)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let closed = error as? NIOHTTP2Errors.StreamClosed {
            // REFUSED_STREAM promises the request was not processed: safe to retry anywhere.
            fail(closed.errorCode == .refusedStream ? .refusedStream : .reset)
        } else {
            fail(.malformedResponse("\(error)"))
        }
        context.close(promise: nil)
    }

    private func fail(_ error: UpstreamError) {
        guard let receiver else { return }
        self.receiver = nil
        receiver.upstreamFailed(error)
    }
}

@available(*, unavailable)
extension HTTP2UpstreamStream: Sendable {}
