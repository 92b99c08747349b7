import NIOCore
import NIOHTTP1

/// Receives one upstream response at a time.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamResponseHead(_ head: HTTPResponseHead)
    func upstreamResponseBody(_ body: ByteBuffer)
    func upstreamResponseEnd(_ trailers: HTTPHeaders?)
    func upstreamFailed(_ error: UpstreamError)
}

/// The last handler of an upstream HTTP/1.1 connection. It carries one request at a time and
/// goes back to its pool when the response ended on a connection both sides keep alive.
final class UpstreamConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var receiver: UpstreamResponseReceiver?
    private var requestKeepAlive = true
    private var responseKeepAlive = true
    weak var pool: UpstreamPool?

    var isUsable: Bool { context?.channel.isActive ?? false }
    var channel: Channel? { context?.channel }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Starts a request; `receiver` gets the response (or the failure).
    func begin(_ head: HTTPRequestHead, receiver: UpstreamResponseReceiver) {
        self.receiver = receiver
        self.requestKeepAlive = head.isKeepAlive
        send(.head(head), flush: false)
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

    /// The receiver gave up (timeout, client gone): the connection is in an unknown state.
    func abandon() {
        receiver = nil
        context?.close(promise: nil)
    }

    /// Lets a slow client slow the upstream down.
    func setReading(_ reading: Bool) {
        context?.channel.setOption(ChannelOptions.autoRead, value: reading).whenComplete { _ in }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            responseKeepAlive = head.isKeepAlive
            receiver?.upstreamResponseHead(head)
        case .body(let body):
            receiver?.upstreamResponseBody(body)
        case .end(let trailers):
            let receiver = self.receiver
            self.receiver = nil
            if requestKeepAlive && responseKeepAlive, let pool {
                pool.release(self)
            } else {
                context.close(promise: nil)
            }
            receiver?.upstreamResponseEnd(trailers)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pool?.forget(self)
        fail(.reset)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parserError = error as? HTTPParserError {
            fail(.malformedResponse("\(parserError)"))
        } else if let refused = error as? UpstreamTLSHandshake.PeerRefusedHandshake {
            fail(.tlsHandshakeFailed(refused.description))
        } else {
            fail(.reset)
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
extension UpstreamConnectionHandler: Sendable {}
