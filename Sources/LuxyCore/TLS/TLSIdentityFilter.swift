import Logging
import LuxyConfig
import NIOCore
import NIOSSL
import NIOTLS

/// Sits right after the downstream `NIOSSLServerHandler`: records what the handshake settled
/// (`TLSConnectionInfo`), checks `allowed_identities`, and counts and logs failed handshakes.
/// Data passes through untouched. HTTP listeners read `info` and answer a refused peer with
/// 403; with `closeRefused` (TCP listeners) a refused peer is closed here.
final class TLSIdentityFilter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let tls: ListenerTLSConfiguration
    private let listenerName: String
    private let stats: ProxyStats
    private let logger: Logger
    private let closeRefused: Bool
    /// Set from the ClientHello, before the TLS handler exists.
    var serverName: String?
    private(set) var info: TLSConnectionInfo?

    init(tls: ListenerTLSConfiguration, listenerName: String, stats: ProxyStats, logger: Logger, closeRefused: Bool) {
        self.tls = tls
        self.listenerName = listenerName
        self.stats = stats
        self.logger = logger
        self.closeRefused = closeRefused
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = tlsEvent {
            handshakeCompleted(context: context, negotiatedProtocol: negotiated)
            // A peer closed here is not news to the handlers after us: a tcp session starts on
            // this event, and must not for a peer that is refused.
            if closeRefused, info?.identityAllowed == false { return }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func handshakeCompleted(context: ChannelHandlerContext, negotiatedProtocol: String?) {
        let ssl = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        let peer = ssl?.peerCertificate.map(PeerIdentity.init(certificate:))
        // NIOSSL verified any certificate presented whenever a client CA is configured; the
        // handshake would have failed otherwise.
        let info = TLSConnectionInfo(
            version: TLSConnectionInfo.name(of: ssl?.tlsVersion), serverName: serverName,
            negotiatedProtocol: negotiatedProtocol, peer: peer,
            peerValidated: peer != nil && tls.clientCertificate != .none,
            identityAllowed: PeerIdentity.isAllowed(peer, allowed: tls.allowedIdentities))
        self.info = info
        stats.increment("downstream_tls_handshakes")
        if !info.identityAllowed {
            stats.increment("downstream_tls_identity_refused")
            logger.info("TLS peer identity not allowed", metadata: [
                "listener": "\(listenerName)",
                "peer": "\(peer.map { ($0.uriSANs + $0.dnsSANs + [$0.subject]).joined(separator: " ") } ?? "no certificate")",
            ])
            if closeRefused { context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard info == nil else {
            context.fireErrorCaught(error)
            return
        }
        // Before the handshake finished nothing above us has seen a byte: no need to tell them.
        stats.increment("downstream_tls_handshake_failed")
        logger.info("downstream TLS handshake failed", metadata: [
            "listener": "\(listenerName)", "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")",
            "sni": "\(serverName ?? "")", "reason": "\(error)",
        ])
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension TLSIdentityFilter: Sendable {}
