import NIOCore
import NIOTLS

/// Bounds the TLS handshake of a downstream HTTP connection: a client that connects and
/// sends no ClientHello, or stops halfway through the handshake, is closed after `timeout`
/// (the request header timeout: the handshake is the first part of the first request's
/// wait), counted as `downstream_tls_handshake_timeout`. Leaves the pipeline once the
/// handshake completed, when the request handlers' own bounds take over.
///
/// Loop-confined: it runs on the connection's event loop.
final class TLSHandshakeDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    private let timeout: TimeAmount
    private let stats: ProxyStats
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, stats: ProxyStats) {
        self.timeout = timeout
        self.stats = stats
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let stats = self.stats
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            stats.increment("downstream_tls_handshake_timeout")
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            timer?.cancel()
            timer = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension TLSHandshakeDeadline: Sendable {}
