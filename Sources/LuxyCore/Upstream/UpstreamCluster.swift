import LuxyConfig
import NIOCore

/// One cluster as seen from one event loop: its endpoints' pools and the balancer's position.
/// Shared by the generations whose configuration has it unchanged (`UpstreamClusterRegistry`).
final class UpstreamCluster {
    let config: ClusterConfiguration
    /// Generations using this cluster on its loop; the pools close when the last one goes.
    var users = 0
    /// Per endpoint: a pool of HTTP/1.1 connections, or one multiplexed HTTP/2 connection.
    let pools: [any UpstreamConnectionProvider]
    private let tlsStore: TLSContextStore?
    private var next = 0

    init(config: ClusterConfiguration, eventLoop: EventLoop, tlsStores: TLSContextRegistry? = nil) {
        self.config = config
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
                                    maxIdle: config.maxIdleConnections, tls: tls)
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

    func pickPool() -> (any UpstreamConnectionProvider)? {
        guard !pools.isEmpty else { return nil }
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
