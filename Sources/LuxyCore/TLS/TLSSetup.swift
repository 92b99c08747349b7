import Logging
import LuxyConfig
import NIOCore
import NIOSSL
import NIOTLS

/// The TLS handlers of a connection, for ProxyServer (downstream) and UpstreamPool
/// (upstream), and for the TCP and HTTP/2 pipelines to call the same way.
enum TLSSetup {
    /// Adds TLS termination at the front of a new downstream channel's pipeline, before any
    /// protocol handler:
    ///
    ///     SNIHandler → (after the ClientHello) NIOSSLServerHandler → TLSIdentityFilter → …
    ///
    /// The SNIHandler reads the ClientHello's server name, puts in the `NIOSSLServerHandler`
    /// with the context of the matching certificate, and removes itself. Handlers added after
    /// this call see decrypted bytes and the `TLSUserEvent.handshakeCompleted(negotiatedProtocol:)`
    /// event carrying the ALPN result. With `closeRefused` (TCP) a peer outside
    /// `allowed_identities` is closed; otherwise ask `connectionInfo(of:)` and refuse it yourself.
    static func addServerHandler(to channel: Channel, listener: ListenerConfiguration, store: TLSContextStore,
                                 stats: ProxyStats, logger: Logger, closeRefused: Bool = false) throws {
        guard let tls = listener.tls else { return }
        let pipeline = channel.pipeline.syncOperations
        let filter = TLSIdentityFilter(tls: tls, listenerName: listener.name, stats: stats, logger: logger,
                                       closeRefused: closeRefused)
        let sni = ByteToMessageHandler(SNIHandler { result in
            var name: String?
            if case .hostname(let hostname) = result { name = hostname.lowercased() }
            filter.serverName = name
            do {
                guard let context = store.serverContext(for: name) else {
                    throw TLSContextStore.LoadError(description: "listener '\(listener.name)' has no server TLS context")
                }
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context),
                                                               position: .before(filter))
                return channel.eventLoop.makeSucceededVoidFuture()
            } catch {
                stats.increment("downstream_tls_handshake_failed")
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error)
            }
        })
        try pipeline.addHandler(sni)
        try pipeline.addHandler(filter)
    }

    /// What the handshake of `channel` (or of its parent, for an HTTP/2 stream channel)
    /// settled; nil on a plain connection or before the handshake completed. Must be called
    /// on the channel's loop.
    static func connectionInfo(of channel: Channel) -> TLSConnectionInfo? {
        if let filter = try? channel.pipeline.syncOperations.handler(type: TLSIdentityFilter.self) {
            return filter.info
        }
        guard let parent = channel.parent, parent.eventLoop.inEventLoop else { return nil }
        return (try? parent.pipeline.syncOperations.handler(type: TLSIdentityFilter.self))?.info
    }

    /// Adds TLS origination to a new upstream channel, before the protocol handlers. Pair it
    /// with `whenUpstreamReady` once connected.
    static func addClientHandler(to channel: Channel, tls: UpstreamTLS) throws {
        guard let context = tls.store.clientContext else {
            throw TLSContextStore.LoadError(description: "cluster has no client TLS context")
        }
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: tls.serverHostname))
        try pipeline.addHandler(UpstreamTLSHandshake())
    }

    /// Calls `completion` once the upstream TLS handshake of `channel` is done (at once when
    /// the channel has no TLS).
    static func whenUpstreamReady(_ channel: Channel, _ completion: @escaping (Result<Void, UpstreamError>) -> Void) {
        guard let waiter = try? channel.pipeline.syncOperations.handler(type: UpstreamTLSHandshake.self) else {
            return completion(.success(()))
        }
        waiter.whenDone(completion)
    }
}

/// TLS origination settings of one endpoint of a cluster.
struct UpstreamTLS: Sendable {
    let store: TLSContextStore
    /// SNI and the name verified: `server_name`, else the endpoint's host unless it is an IP
    /// (then NIOSSL checks the certificate's IP SANs against the address connected to).
    let serverHostname: String?

    init(store: TLSContextStore, tls: ClusterTLSConfiguration, host: String) {
        self.store = store
        if let name = tls.serverName {
            serverHostname = name
        } else {
            serverHostname = (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
        }
    }
}
