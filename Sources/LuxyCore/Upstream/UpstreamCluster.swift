import LuxyConfig
import NIOCore

/// One cluster as seen from one event loop: its endpoints' pools, the balancer's position and
/// what it holds against its circuit breakers. Shared by the generations whose configuration
/// has it unchanged (`UpstreamClusterRegistry`). Loop-confined: used only on its loop.
final class UpstreamCluster {
    let config: ClusterConfiguration
    /// Requests, pending requests, retries and connections against `circuit_breakers`.
    let breaker: ClusterCircuitBreaker
    /// Generations using this cluster on its loop; the pools close when the last one goes.
    var users = 0
    /// Per endpoint: a pool of HTTP/1.1 connections, or one multiplexed HTTP/2 connection.
    let pools: [any UpstreamConnectionProvider]
    private let tlsStore: TLSContextStore?
    private var next = 0

    init(config: ClusterConfiguration, eventLoop: EventLoop, tlsStores: TLSContextRegistry? = nil,
         stats: ProxyStats? = nil) {
        self.config = config
        let breaker = ClusterCircuitBreaker(limits: config.circuitBreakers)
        self.breaker = breaker
        let tlsStore = tlsStores?.store(for: config)
        self.tlsStore = tlsStore
        self.pools = config.endpoints.map { endpoint -> any UpstreamConnectionProvider in
            let tls = tlsStore.flatMap { store in
                config.tls.map { UpstreamTLS(store: store, tls: $0, host: endpoint.host) }
            }
            let connectTimeout = TimeAmount.milliseconds(Int64(config.connectTimeoutMilliseconds))
            switch config.upstreamProtocol {
            case .http1:
                return UpstreamPool(endpoint: endpoint, eventLoop: eventLoop, connectTimeout: connectTimeout,
                                    maxIdle: config.maxIdleConnections, tls: tls, breaker: breaker,
                                    idleTimeout: .milliseconds(Int64(config.idleTimeoutMilliseconds)), stats: stats)
            case .http2:
                return HTTP2UpstreamPool(endpoint: endpoint, eventLoop: eventLoop, connectTimeout: connectTimeout,
                                         tls: tls)
            }
        }
    }

    /// TLS origination to `endpoint` when the cluster has `tls:`: for connections made outside
    /// the pools (tcp listeners).
    func tls(for endpoint: ClusterConfiguration.Endpoint) -> UpstreamTLS? {
        guard let tlsStore, let tls = config.tls else { return nil }
        return UpstreamTLS(store: tlsStore, tls: tls, host: endpoint.host)
    }

    /// Idle connections close; connections still carrying a request finish it first.
    func close() {
        for pool in pools { pool.close() }
    }

    var requestTimeout: TimeAmount { .milliseconds(Int64(config.requestTimeoutMilliseconds)) }

    /// The one entry point of endpoint selection: the balancer's pick among the endpoints not
    /// in `excluded` (those a retry already tried), or among all of them when every one was
    /// tried. A retry thus goes to another endpoint where there is one.
    func pickPool(excluding excluded: [ClusterConfiguration.Endpoint] = []) -> (any UpstreamConnectionProvider)? {
        guard !pools.isEmpty else { return nil }
        guard !excluded.isEmpty, excluded.count < pools.count else { return pickAny() }
        // Bounded: at most one turn around the endpoints.
        for _ in 0..<pools.count {
            guard let pool = pickAny() else { return nil }
            if !excluded.contains(pool.endpoint) { return pool }
        }
        return pools.first { !excluded.contains($0.endpoint) }
    }

    private func pickAny() -> (any UpstreamConnectionProvider)? {
        switch config.loadBalancing {
        case .roundRobin:
            next = (next + 1) % pools.count
            return pools[next]
        case .random:
            return pools.randomElement()
        }
    }
}

@available(*, unavailable)
extension UpstreamCluster: Sendable {}
