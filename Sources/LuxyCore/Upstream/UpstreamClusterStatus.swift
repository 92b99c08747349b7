import Foundation
import LuxyConfig

/// What `GET /clusters` and `/metrics` show of one cluster: its policy and, per endpoint,
/// health and figures summed over the loops. A snapshot, taken off the request path.
public struct UpstreamClusterStatus: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var address: String
        public var weight: Int
        /// Failing active health checks (`/failed_active_hc` in Envoy's flags).
        public var failsActiveHealthCheck: Bool
        /// Loops whose passive outlier detection ejects it now (`/failed_outlier_check`).
        public var ejectedOnLoops: Int
        /// When the latest of those ejections ends.
        public var ejectedUntil: Date?
        public var timesEjected: Int
        public var activeRequests: Int
        /// Connections open and idle in the pools (HTTP/2: the shared connection).
        public var idleConnections: Int
        public var successes: Int
        public var errors5xx: Int
        public var gatewayFailures: Int
        /// Requests and successes of the last success-rate `interval` (0 when success-rate
        /// detection does not run for the cluster).
        public var intervalRequests = 0
        public var intervalSuccesses = 0

        /// The last interval's success rate in percent, as success-rate detection saw it; nil
        /// without requests in it.
        public var intervalSuccessRate: Double? {
            intervalRequests == 0 ? nil : Double(intervalSuccesses) * 100 / Double(intervalRequests)
        }

        public var isHealthy: Bool { !failsActiveHealthCheck && ejectedOnLoops == 0 }
    }

    public var name: String
    public var policy: String
    public var healthChecked: Bool
    public var endpoints: [Endpoint]

    /// Another loop's view of the same cluster, added in.
    mutating func merge(_ other: UpstreamClusterStatus) {
        guard other.endpoints.count == endpoints.count else { return }
        for index in endpoints.indices {
            let theirs = other.endpoints[index]
            endpoints[index].failsActiveHealthCheck = endpoints[index].failsActiveHealthCheck || theirs.failsActiveHealthCheck
            endpoints[index].ejectedOnLoops += theirs.ejectedOnLoops
            if let until = theirs.ejectedUntil {
                endpoints[index].ejectedUntil = max(until, endpoints[index].ejectedUntil ?? until)
            }
            endpoints[index].timesEjected += theirs.timesEjected
            endpoints[index].activeRequests += theirs.activeRequests
            endpoints[index].idleConnections += theirs.idleConnections
            endpoints[index].successes += theirs.successes
            endpoints[index].errors5xx += theirs.errors5xx
            endpoints[index].gatewayFailures += theirs.gatewayFailures
            endpoints[index].intervalRequests += theirs.intervalRequests
            endpoints[index].intervalSuccesses += theirs.intervalSuccesses
        }
    }
}
