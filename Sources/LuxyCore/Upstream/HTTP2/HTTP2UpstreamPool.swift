import LuxyConfig
import NIOCore

/// An endpoint of a `protocol: http2` cluster, from one event loop: ONE connection, every
/// request a stream on it. A connection that got GOAWAY or closed is replaced on the next
/// acquire; the streams it still carries finish on it. Loop-confined, no lock.
final class HTTP2UpstreamPool: UpstreamConnectionProvider {
    let endpoint: ClusterConfiguration.Endpoint
    let endpointText: String
    private let eventLoop: EventLoop
    private let connectTimeout: TimeAmount
    private let tls: UpstreamTLS?
    private var connection: HTTP2UpstreamConnection?
    private var isClosed = false

    init(endpoint: ClusterConfiguration.Endpoint, eventLoop: EventLoop, connectTimeout: TimeAmount, tls: UpstreamTLS?) {
        self.endpoint = endpoint
        self.endpointText = endpoint.description
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.tls = tls
    }

    func acquireConnection(_ completion: @escaping (Result<any UpstreamConnection, UpstreamError>) -> Void) {
        if connection == nil || !connection!.isAcceptingStreams {
            let fresh = HTTP2UpstreamConnection(pool: self)
            connection = fresh
            fresh.connect(to: endpoint, on: eventLoop, timeout: connectTimeout, tls: tls)
        }
        connection!.openStream(completion)
        // An old generation's pool (an httpCall finishing late) still serves, then closes.
        if isClosed { connection!.closeWhenIdle() }
    }

    /// Streams are opened asynchronously on the shared connection.
    func takeIdleConnection() -> (any UpstreamConnection)? {
        nil
    }

    /// A stream acquired but not used: HTTP/2 streams are single-use, so it is just closed.
    func releaseConnection(_ connection: any UpstreamConnection) {
        connection.abandon()
    }

    /// The generation is gone: the connection closes once its last stream ended.
    func close() {
        isClosed = true
        connection?.closeWhenIdle()
    }

    var idleConnectionCount: Int { connection?.isAcceptingStreams == true ? 1 : 0 }

    /// `connection` took GOAWAY, failed or closed: the next acquire opens another one.
    func connectionUnusable(_ unusable: HTTP2UpstreamConnection) {
        if connection === unusable { connection = nil }
    }
}

@available(*, unavailable)
extension HTTP2UpstreamPool: Sendable {}
