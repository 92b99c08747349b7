import LuxyConfig
import NIOCore

/// An `original_destination` cluster (Envoy's `ORIGINAL_DST`, Istio's `PassthroughCluster`):
/// no configured endpoints; each connection goes to the address it was originally sent to,
/// through a pool per destination so that HTTP requests to one destination reuse connections.
extension UpstreamCluster {
    /// Destinations with a pool of their own at most; past it, the pools are dropped and
    /// made again (their in-flight requests finish first). Bounds what a client sending to
    /// many addresses can make the proxy keep.
    static let maxDestinationPools = 1024

    /// The pick for one attempt at `destination`. Its `endpointIndex` lies past the static
    /// endpoints, so outlier detection and failover leave it alone (there is one destination).
    func pick(originalDestination destination: SocketAddress) -> UpstreamPick? {
        guard let host = destination.ipAddress, let port = destination.port else { return nil }
        let endpoint = ClusterConfiguration.Endpoint(host: host, port: port)
        let key = endpoint.description
        if let pool = destinationPools[key] { return UpstreamPick(endpointIndex: health.count, pool: pool) }
        if destinationPools.count >= Self.maxDestinationPools {
            for pool in destinationPools.values { pool.close() }
            destinationPools.removeAll()
        }
        let pool = Self.makePool(for: endpoint, config: config, eventLoop: eventLoop, tlsStore: tlsStore,
                                 breaker: breaker, stats: stats, shared: shared)
        destinationPools[key] = pool
        return UpstreamPick(endpointIndex: health.count, pool: pool)
    }
}
