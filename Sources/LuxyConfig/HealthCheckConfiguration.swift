/// Envoy's `health_checks` on a cluster (one of them): active probes of every endpoint, once
/// per process, whose verdict takes endpoints out of rotation on every loop.
public struct HealthCheckConfiguration: Sendable, Equatable {
    public enum Probe: Sendable, Equatable {
        /// Envoy's `http_health_check`: a request whose status must be in `expectedStatuses`.
        case http(HTTPProbe)
        /// Envoy's `tcp_health_check` with no payload: the connect alone.
        case tcp
    }

    public struct HTTPProbe: Sendable, Equatable {
        public var path: String
        public var method = "GET"
        /// The `Host` header; nil means the endpoint's `host:port`.
        public var host: String? = nil
        /// Envoy's `expected_statuses` as closed ranges; by default 200 only, as in Envoy.
        public var expectedStatuses: [ClosedRange<Int>] = [200...200]

        public init(path: String) { self.path = path }

        public func accepts(_ status: Int) -> Bool { expectedStatuses.contains { $0.contains(status) } }
    }

    public var probe: Probe
    public var intervalMilliseconds = 5_000
    /// Envoy's `interval_jitter`: up to this much is added to each interval, at random, so the
    /// probes of many endpoints do not line up.
    public var intervalJitterMilliseconds = 0
    public var timeoutMilliseconds = 1_000
    /// Envoy's `healthy_threshold`: passes in a row before an unhealthy endpoint is back.
    public var healthyThreshold = 1
    /// Envoy's `unhealthy_threshold`: failures in a row before an endpoint leaves rotation.
    public var unhealthyThreshold = 3

    public init(probe: Probe) { self.probe = probe }
}
