import LuxyConfig

/// Envoy's failure-percentage outlier detection as a pure computation: among endpoints with
/// at least `failure_percentage_request_volume` requests in the interval (and only when at
/// least `failure_percentage_minimum_hosts` have them), those whose failures reach
/// `failure_percentage_threshold` % are outliers, whatever the others do. Where success rate
/// compares endpoints with each other, this catches a cluster-wide bad state's worst members
/// and small clusters' dead ones by an absolute bar.
///
/// A value, run once per interval on the cluster's loop; never on the request path.
struct FailurePercentageOutlierRule: Equatable {
    let quorum: OutlierIntervalQuorum
    /// In percent: at or above it an endpoint is an outlier.
    let threshold: Int

    init(minimumHosts: Int, requestVolume: Int, threshold: Int) {
        self.quorum = OutlierIntervalQuorum(minimumHosts: minimumHosts, requestVolume: requestVolume)
        self.threshold = threshold
    }

    init(_ config: OutlierDetectionConfiguration) {
        self.init(minimumHosts: config.failurePercentageMinimumHosts,
                  requestVolume: config.failurePercentageRequestVolume, threshold: config.failurePercentageThreshold)
    }

    /// Endpoint indices, in the order of the samples; empty when too few had the volume.
    func outliers(_ samples: [EndpointIntervalSample]) -> [Int] {
        guard let compared = quorum.compared(samples) else { return [] }
        // failures × 100 ≥ threshold × requests, in integers.
        return compared.filter { ($0.requests - $0.successes) * 100 >= threshold * $0.requests }.map(\.endpointIndex)
    }
}
