import Foundation
import NIOCore

/// This loop's view of the cluster for `/clusters`, on its loop.
extension UpstreamCluster {
    var status: UpstreamClusterStatus {
        let now = eventLoop.now
        let wallNow = Date()
        let endpoints = config.endpoints.indices.map { index -> UpstreamClusterStatus.Endpoint in
            let health = health[index]
            var ejectedUntil: Date?
            if case .ejected(let until) = health.ejection {
                let remaining = Double((until - now).nanoseconds) / 1e9
                ejectedUntil = wallNow.addingTimeInterval(max(0, remaining))
            }
            var endpoint = UpstreamClusterStatus.Endpoint(
                address: config.endpoints[index].description, weight: config.endpoints[index].weight,
                failsActiveHealthCheck: health.active == .failing, ejectedOnLoops: ejectedUntil == nil ? 0 : 1,
                ejectedUntil: ejectedUntil, timesEjected: health.timesEjected, activeRequests: health.activeRequests,
                idleConnections: pools[index].idleConnectionCount, successes: health.successes,
                errors5xx: health.errors5xx, gatewayFailures: health.gatewayFailures)
            endpoint.intervalRequests = health.lastIntervalRequests
            endpoint.intervalSuccesses = health.lastIntervalSuccesses
            return endpoint
        }
        return UpstreamClusterStatus(name: config.name, policy: config.loadBalancing.rawValue,
                                     healthChecked: !config.healthChecks.isEmpty, endpoints: endpoints)
    }
}
