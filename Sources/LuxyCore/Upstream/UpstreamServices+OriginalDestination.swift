import LuxyConfig
import NIOCore

/// Routing by original destination, for HTTP exchanges and TCP sessions alike.
extension UpstreamServices {
    /// The cluster `name` for a connection originally sent to `destination`. When `name` is
    /// an `original_destination` cluster and a static cluster lists `destination` among its
    /// endpoints, that cluster is taken instead, with its load balancing, health and
    /// policies: as in Istio, where the outbound listener of a known service `ip:port` wins
    /// over the `PassthroughCluster`.
    func cluster(named name: String, originalDestination destination: SocketAddress?) -> UpstreamCluster? {
        guard let cluster = self.cluster(named: name) else { return nil }
        guard cluster.config.kind == .originalDestination, let destination,
              let host = destination.ipAddress, let port = destination.port,
              let known = clusterNamesByEndpoint["\(host):\(port)"] else { return cluster }
        return self.cluster(named: known) ?? cluster
    }

    /// The pick for one attempt on `cluster`: an endpoint of a static cluster, or the
    /// connection's own original destination for an `original_destination` one (refused when
    /// there is none, or when it is this proxy's own listener). The addresses are read only
    /// for such a cluster: a copy of each retains and releases it on every request.
    func pick(on cluster: UpstreamCluster, excluding tried: UpstreamEndpointSet = .none, hashKey: UInt64? = nil,
              originalDestination: @autoclosure () -> SocketAddress?, direct: @autoclosure () -> SocketAddress?)
        -> Result<UpstreamPick, UpstreamError>
    {
        guard cluster.config.kind == .originalDestination else {
            guard let pick = cluster.pickPool(excluding: tried, hashKey: hashKey) else {
                return .failure(.noEndpoint(cluster.config.name))
            }
            return .success(pick)
        }
        guard let destination = originalDestination(), let pick = cluster.pick(originalDestination: destination) else {
            return .failure(.noOriginalDestination(cluster.config.name))
        }
        if ownAddresses.contains(destination, direct: direct()) {
            return .failure(.originalDestinationIsProxy("\(destination.ipAddress ?? "?"):\(destination.port ?? 0)"))
        }
        return .success(pick)
    }
}
