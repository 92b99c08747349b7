import Foundation
import LuxyConfig
import NIOCore

/// The interval triggers of outlier detection, Envoy's `success_rate_*` and
/// `failure_percentage_*`: every `interval` the cluster takes each endpoint's requests and
/// successes over the interval just ended, ejects those whose success rate is far below the
/// others' and those whose failures reach the absolute bar. The request path pays nothing for
/// it: it reads the per-endpoint totals `recordOutcome` keeps anyway, against marks taken
/// here. One timer per cluster and loop; like the consecutive-failure triggers, each loop
/// judges what it saw.
extension UpstreamCluster {
    /// nil when success rates can never be compared: detection off, `enforcing_success_rate`
    /// 0, or fewer endpoints than `success_rate_minimum_hosts`.
    static func successRateRule(for config: ClusterConfiguration) -> SuccessRateOutlierRule? {
        let outlier = config.outlierDetection
        guard outlier.enabled, outlier.enforcingSuccessRate > 0,
              config.endpoints.count >= outlier.successRateMinimumHosts else { return nil }
        return SuccessRateOutlierRule(outlier)
    }

    /// nil unless `enforcing_failure_percentage` is set (Envoy's default leaves it off) and
    /// the cluster has `failure_percentage_minimum_hosts` endpoints.
    static func failurePercentageRule(for config: ClusterConfiguration) -> FailurePercentageOutlierRule? {
        let outlier = config.outlierDetection
        guard outlier.enabled, outlier.enforcingFailurePercentage > 0,
              config.endpoints.count >= outlier.failurePercentageMinimumHosts else { return nil }
        return FailurePercentageOutlierRule(outlier)
    }

    /// Runs only for a cluster with a rule to apply: no timer at all otherwise.
    func scheduleOutlierInterval() {
        guard successRateRule != nil || failurePercentageRule != nil else { return }
        let interval = TimeAmount.milliseconds(Int64(config.outlierDetection.intervalMilliseconds))
        outlierIntervalTimer = eventLoop.assumeIsolated().scheduleTask(in: interval) { [weak self] in
            guard let self else { return }
            self.evaluateOutlierInterval()
            self.scheduleOutlierInterval()
        }
    }

    /// Closes the interval: takes each endpoint's figures since the last marks, ejects the
    /// outliers (within `max_ejection_percent`, as every ejection), and starts the next.
    func evaluateOutlierInterval() {
        var samples: [EndpointIntervalSample] = []
        samples.reserveCapacity(health.count)
        for index in health.indices {
            let endpoint = health[index]
            let requests = endpoint.requests - endpoint.requestsAtIntervalStart
            let successes = endpoint.successes - endpoint.successesAtIntervalStart
            health[index].requestsAtIntervalStart = endpoint.requests
            health[index].successesAtIntervalStart = endpoint.successes
            health[index].lastIntervalRequests = requests
            health[index].lastIntervalSuccesses = successes
            // Envoy leaves endpoints already ejected out of the comparison.
            guard endpoint.ejection == .included else { continue }
            samples.append(.init(endpointIndex: index, requests: requests, successes: successes))
        }
        let outlier = config.outlierDetection
        if let verdict = successRateRule?.evaluate(samples) {
            for index in verdict.outliers {
                stats.increment("outlier_detection_success_rate_outliers")
                let reason = "success rate \(rateText(index, samples)) below the threshold "
                    + "\(percentText(verdict.ejectionThreshold)) (average \(percentText(verdict.average)))"
                ejectForInterval(index, trigger: "success_rate", reason: reason, enforcingPercent: outlier.enforcingSuccessRate)
            }
        }
        if let rule = failurePercentageRule {
            for index in rule.outliers(samples) {
                let reason = "success rate \(rateText(index, samples)), failures at or above \(rule.threshold)%"
                ejectForInterval(index, trigger: "failure_percentage", reason: reason,
                                 enforcingPercent: outlier.enforcingFailurePercentage)
            }
        }
    }

    /// One interval trigger's ejection, counted under its own name when it happened; an
    /// endpoint the other trigger ejected this interval already is left alone.
    private func ejectForInterval(_ index: Int, trigger: String, reason: String, enforcingPercent: Int) {
        guard health[index].ejection == .included else { return }
        let ejectedBefore = health[index].timesEjected
        eject(index, reason: reason, enforcingPercent: enforcingPercent)
        if health[index].timesEjected > ejectedBefore { stats.increment("outlier_detection_ejections_\(trigger)") }
    }

    private func rateText(_ index: Int, _ samples: [EndpointIntervalSample]) -> String {
        samples.first { $0.endpointIndex == index }.map { percentText($0.successRate) } ?? "?"
    }

    private func percentText(_ value: Double) -> String {
        String(format: "%.1f%%", value)
    }
}
