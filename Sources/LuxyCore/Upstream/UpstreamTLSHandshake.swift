import NIOCore
import NIOSSL
import NIOTLS

/// Right after an upstream `NIOSSLClientHandler`: holds a new connection back from its pool
/// until the handshake is done, so a failed handshake is a 503 naming it rather than a reset
/// in the middle of a request.
///
/// With TLS 1.3 the client's side of the handshake ends before the server checked the client
/// certificate; a server refusing it answers the first request with an alert. Until the first
/// byte arrives such a TLS error is passed on as `PeerRefusedHandshake`, which the protocol
/// handlers report as `UpstreamError.tlsHandshakeFailed` too.
final class UpstreamTLSHandshake: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    struct PeerRefusedHandshake: Error, CustomStringConvertible {
        var description: String
    }

    private var result: Result<Void, UpstreamError>?
    private var sawData = false
    private var waiter: ((Result<Void, UpstreamError>) -> Void)?

    /// `completion` runs once, on the channel's loop (at once if the handshake already ended).
    func whenDone(_ completion: @escaping (Result<Void, UpstreamError>) -> Void) {
        if let result {
            completion(result)
        } else {
            waiter = completion
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            finish(.success(()))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sawData = true
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard result == nil else {
            if !sawData, error is NIOSSLError || error is BoringSSLError {
                return context.fireErrorCaught(PeerRefusedHandshake(description: "\(error)"))
            }
            return context.fireErrorCaught(error)
        }
        finish(.failure(.tlsHandshakeFailed("\(error)")))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if result == nil { finish(.failure(.tlsHandshakeFailed("the upstream closed the connection during the handshake"))) }
        context.fireChannelInactive()
    }

    private func finish(_ outcome: Result<Void, UpstreamError>) {
        guard result == nil else { return }
        result = outcome
        let waiter = self.waiter
        self.waiter = nil
        waiter?(outcome)
    }
}

@available(*, unavailable)
extension UpstreamTLSHandshake: Sendable {}
