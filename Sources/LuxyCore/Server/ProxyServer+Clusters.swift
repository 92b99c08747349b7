/// `GET /clusters`: every loop's view of its clusters, summed per endpoint.
extension ProxyServer {
    public func clusterStatuses() async -> [UpstreamClusterStatus] {
        var merged: [String: UpstreamClusterStatus] = [:]
        var order: [String] = []
        for bound in loopContexts {
            let statuses = (try? await bound.eventLoop.submit {
                bound.value.upstreamClusters.current.values.map(\.status)
            }.get()) ?? []
            for status in statuses {
                if merged[status.name] == nil {
                    merged[status.name] = status
                    order.append(status.name)
                } else {
                    merged[status.name]?.merge(status)
                }
            }
        }
        return order.sorted().compactMap { merged[$0] }
    }
}
