import LuxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to one endpoint from one event loop. Loop-confined, so it needs no
/// lock; the connections it opens live on the same loop as the requests that use them.
///
/// Nothing queues here: a request takes an idle connection or opens one at once (bounded by
/// the cluster's `max_connections`; the wait for the connect by `max_pending_requests`, counted
/// by the exchange). A connection idle longer than `idle_timeout` is closed by one sweep timer
/// per pool, armed only while connections idle (`UpstreamPool+IdleTimeout.swift`).
final class UpstreamPool {
    let endpoint: ClusterConfiguration.Endpoint
    let endpointText: String
    let eventLoop: EventLoop
    private let connectTimeout: TimeAmount
    private let maxIdle: Int
    private let tls: UpstreamTLS?
    /// Most recently released last.
    var idle: [IdleUpstreamConnection] = []
    private var isClosed = false
    let breaker: ClusterCircuitBreaker?
    let idleTimeout: TimeAmount
    let stats: ProxyStats?
    /// The loop's head buffers, which the pool's connections encode their requests into, and
    /// its clock: a connection released as its response ends is stamped with the time that
    /// read took, not a clock read of its own.
    private let shared: LoopShared
    /// Long field strings of the endpoint's responses seen lately (`date`, `content-type`),
    /// shared by the pool's connections.
    private let fieldStrings = RepeatedFieldStrings()
    /// The sweep closing connections idle longer than `idleTimeout`; nil while none is due.
    var idleSweep: Scheduled<Void>?

    init(endpoint: ClusterConfiguration.Endpoint, eventLoop: EventLoop, connectTimeout: TimeAmount, maxIdle: Int,
         tls: UpstreamTLS? = nil, breaker: ClusterCircuitBreaker? = nil, idleTimeout: TimeAmount = .seconds(60),
         stats: ProxyStats? = nil, shared: LoopShared) {
        self.shared = shared
        self.breaker = breaker
        self.idleTimeout = idleTimeout
        self.stats = stats
        self.endpoint = endpoint
        self.endpointText = endpoint.description
        self.tls = tls
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdle
    }

    func acquire(_ completion: @escaping (Result<UpstreamConnectionHandler, UpstreamError>) -> Void) {
        if let connection = takeIdle() { return completion(.success(connection)) }
        connect(completion)
    }

    /// The most recently used idle connection that is still open.
    func takeIdle() -> UpstreamConnectionHandler? {
        while let entry = idle.popLast() {
            if entry.connection.isUsable { return entry.connection }
        }
        return nil
    }

    func release(_ connection: UpstreamConnectionHandler) {
        guard !isClosed, idle.count < maxIdle, connection.isUsable else {
            connection.channel?.close(promise: nil)
            return
        }
        idle.append(IdleUpstreamConnection(connection: connection, since: shared.clock.now))
        if idleSweep == nil { scheduleIdleSweep() }
    }

    var idleCount: Int { idle.count }

    func forget(_ connection: UpstreamConnectionHandler) {
        idle.removeAll { $0.connection === connection }
    }

    /// The generation owning this pool is gone: close what idles, refuse to keep more.
    func close() {
        isClosed = true
        idleSweep?.cancel()
        idleSweep = nil
        let connections = idle
        idle.removeAll()
        for entry in connections { entry.connection.channel?.close(promise: nil) }
    }

    private func connect(_ completion: @escaping (Result<UpstreamConnectionHandler, UpstreamError>) -> Void) {
        if let breaker, !breaker.admitConnection() {
            return completion(.failure(.overloaded(.connections)))
        }
        let breaker = self.breaker
        // The configure closure is @Sendable; it runs on this pool's loop, the connection's.
        let shared = NIOLoopBound(self.shared, eventLoop: eventLoop)
        let fieldStrings = NIOLoopBound(self.fieldStrings, eventLoop: eventLoop)
        UpstreamConnector.connect(to: endpoint, on: eventLoop, timeout: connectTimeout, tls: tls, configure: { channel in
            try UpstreamConnectionHandler.addHandlers(to: channel.pipeline.syncOperations, shared: shared.value,
                                                      strings: fieldStrings.value)
        }) { result in
            // The connection counts against `max_connections` until it closes.
            switch result {
            case .success(let channel):
                channel.closeFuture.assumeIsolated().whenComplete { _ in breaker?.connectionClosed() }
            case .failure:
                breaker?.connectionClosed()
            }
            // A TLS connection is handed out only once its handshake succeeded.
            completion(result.flatMap { channel in
                guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self)
                else {
                    channel.close(promise: nil)
                    return .failure(.reset)
                }
                handler.pool = self
                return .success(handler)
            })
        }
    }
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}
