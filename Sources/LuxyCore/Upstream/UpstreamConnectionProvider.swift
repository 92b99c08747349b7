import LuxyConfig
import NIOCore
import NIOHTTP1

/// One upstream request channel as the exchange driver and `httpCall` use it: an HTTP/1.1
/// keep-alive connection (`UpstreamConnectionHandler`) or one HTTP/2 stream
/// (`HTTP2UpstreamStream`). Both speak NIO's HTTP/1 client parts.
protocol UpstreamConnection: AnyObject {
    /// Starts a request; `receiver` gets the response (or the failure).
    func begin(_ head: HTTPRequestHead, receiver: UpstreamResponseReceiver)
    /// Its requests go out as bytes (HTTP/1.1), so one may go as the client sent it.
    var writesHeadsAsBytes: Bool { get }
    /// Starts a request whose head goes as `forwarded`'s bytes; `head` is the request's, for
    /// what the response is read by (a HEAD's answer has no body). Asked only where
    /// `writesHeadsAsBytes`.
    func begin(_ head: HTTPRequestHead, forwarded: ForwardedRequestHead, receiver: UpstreamResponseReceiver)
    func send(_ part: HTTPClientRequestPart, flush: Bool)
    func flush()
    /// The receiver gave up (timeout, client gone): drop the request and what carries it.
    func abandon()
    /// Lets a slow client slow the upstream down.
    func setReading(_ reading: Bool)
    /// It carried a request before this one: an upstream may have closed it meanwhile (its
    /// keep-alive timeout), so a reset before any answer is worth one retry.
    var isReused: Bool { get }
}

/// Where an endpoint's request channels come from, per (event loop, endpoint): a pool of
/// HTTP/1.1 connections (`UpstreamPool`) or one multiplexed HTTP/2 connection
/// (`HTTP2UpstreamPool`), chosen by the cluster's `protocol:`.
protocol UpstreamConnectionProvider: AnyObject {
    var endpoint: ClusterConfiguration.Endpoint { get }
    /// `host:port`, formatted once: exchanges and `httpCall` use it on every request.
    var endpointText: String { get }
    func acquireConnection(_ completion: @escaping (Result<any UpstreamConnection, UpstreamError>) -> Void)
    /// A connection ready now (a warm one from the pool), or nil when one must be opened.
    func takeIdleConnection() -> (any UpstreamConnection)?
    /// Gives back a connection acquired but not used (its request was dropped meanwhile).
    func releaseConnection(_ connection: any UpstreamConnection)
    /// The generation owning this provider is gone.
    func close()
    /// Connections open and waiting for a request (HTTP/2: the shared connection), for `/clusters`.
    var idleConnectionCount: Int { get }
}

extension UpstreamConnectionHandler: UpstreamConnection {}

extension UpstreamPool: UpstreamConnectionProvider {
    var idleConnectionCount: Int { idleCount }

    func takeIdleConnection() -> (any UpstreamConnection)? {
        takeIdle()
    }

    func acquireConnection(_ completion: @escaping (Result<any UpstreamConnection, UpstreamError>) -> Void) {
        acquire { result in completion(result.map { $0 }) }
    }

    func releaseConnection(_ connection: any UpstreamConnection) {
        if let connection = connection as? UpstreamConnectionHandler {
            release(connection)
        } else {
            connection.abandon()
        }
    }
}
