import LuxyConfig
import NIOCore
import NIOHTTP1

/// One proxied TCP connection as stages see it.
///
/// Only touched on its loop.
public final class TCPConnection {
    public let listenerName: String
    public let direction: TrafficDirection
    /// The cluster the connection goes to: the listener's, or the one its SNI routes picked.
    public internal(set) var clusterName: String
    /// The TLS server name the client asked for (terminated or only inspected), if any.
    public internal(set) var serverName: String?
    public let eventLoop: EventLoop
    /// The address the client connected to: its original destination on a listener that
    /// restores it (`original_destination`), else the listener's address.
    public let downstreamLocalAddress: SocketAddress?
    /// The socket's own address (the listener's port after a redirect).
    public let downstreamDirectLocalAddress: SocketAddress?
    /// Read at accept on a listener with `original_destination`; nil elsewhere.
    public let originalDestination: SocketAddress?
    public let downstreamRemoteAddress: SocketAddress?
    /// `host:port` of the upstream endpoint, once load balancing picked one.
    public internal(set) var upstreamTarget: String?
    /// The verified client identity on a TLS listener with client certificates
    /// (`PeerIdentity.preferredName`); nil on plain connections and without a certificate.
    public var peerIdentity: String?
    /// The downstream TLS handshake; nil on a plain connection.
    public internal(set) var tls: TLSConnectionInfo?
    /// Per-connection state of the plugin layer (e.g. the Lua stream shared by all stages).
    public var pluginState: AnyObject?

    /// Lives as long as the process; a connection keeps no generation (see `httpCall`).
    private unowned let loop: LoopContext

    init(listener: ListenerConfiguration, loop: LoopContext, local: SocketAddress?, remote: SocketAddress?,
         originalDestination: SocketAddress? = nil) {
        self.listenerName = listener.name
        self.direction = listener.direction
        self.clusterName = listener.tcpCluster ?? ""
        self.eventLoop = loop.eventLoop
        self.loop = loop
        self.downstreamLocalAddress = originalDestination ?? local
        self.downstreamDirectLocalAddress = local
        self.originalDestination = originalDestination
        self.downstreamRemoteAddress = remote
    }

    /// A side call to a cluster, as `HTTPExchange.httpCall`: transport failures come back as
    /// a local 5xx response. It goes through the clusters of the generation serving the
    /// listener now, not of the one the connection started on: a long connection must not
    /// keep an old generation's pools. That generation is in use until the call ends.
    public func httpCall(cluster: String, head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount,
                         completion: @escaping (HTTPResponseHead, ByteBuffer) -> Void) {
        guard let generation = loop.generation(serving: listenerName) ?? loop.generation else {
            let reply = LocalReply.error(.serviceUnavailable, "the proxy is shutting down")
            return completion(reply.head, reply.body)
        }
        generation.sideCall(cluster: cluster, head: head, body: body, timeout: timeout, completion: completion)
    }
}

@available(*, unavailable)
extension TCPConnection: Sendable {}
