import LuxyConfig

/// Envoy's success-rate outlier detection as a pure computation: given each endpoint's
/// requests and successes over one `interval`, which endpoints are outliers. Only endpoints
/// with at least `success_rate_request_volume` requests count; with fewer than
/// `success_rate_minimum_hosts` of them nothing is compared. An endpoint whose success rate
/// is below mean − (`success_rate_stdev_factor` / 1000) × standard deviation (the
/// population's, as Envoy computes it) is an outlier.
///
/// A value, run once per interval on the cluster's loop; never on the request path.
struct SuccessRateOutlierRule: Equatable {
    /// What one evaluation found.
    struct Verdict: Equatable {
        /// The mean success rate of the endpoints compared, in percent.
        let average: Double
        /// Below this success rate an endpoint is an outlier.
        let ejectionThreshold: Double
        /// Endpoint indices, in the order of the samples.
        let outliers: [Int]
    }

    let quorum: OutlierIntervalQuorum
    /// Thousandths of a standard deviation.
    let stdevFactor: Int

    init(minimumHosts: Int, requestVolume: Int, stdevFactor: Int) {
        self.quorum = OutlierIntervalQuorum(minimumHosts: minimumHosts, requestVolume: requestVolume)
        self.stdevFactor = stdevFactor
    }

    init(_ config: OutlierDetectionConfiguration) {
        self.init(minimumHosts: config.successRateMinimumHosts, requestVolume: config.successRateRequestVolume,
                  stdevFactor: config.successRateStdevFactor)
    }

    /// nil when too few endpoints had the request volume to be compared.
    func evaluate(_ samples: [EndpointIntervalSample]) -> Verdict? {
        guard let compared = quorum.compared(samples) else { return nil }
        let count = Double(compared.count)
        let average = compared.reduce(0) { $0 + $1.successRate } / count
        let variance = compared.reduce(0) { $0 + ($1.successRate - average) * ($1.successRate - average) } / count
        let threshold = average - Double(stdevFactor) / 1000 * variance.squareRoot()
        let outliers = compared.filter { $0.successRate < threshold }.map(\.endpointIndex)
        return Verdict(average: average, ejectionThreshold: threshold, outliers: outliers)
    }
}
