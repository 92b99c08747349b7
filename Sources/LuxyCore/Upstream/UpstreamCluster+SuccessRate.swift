import Foundation
import LuxyConfig
import NIOCore

/// Success-rate outlier detection (Envoy's `success_rate_*`): every `interval` the cluster
/// compares its endpoints' success rates over the interval just ended and ejects those far
/// below the others. The request path pays nothing for it: it reads the per-endpoint totals
/// `recordOutcome` keeps anyway, against marks taken here. One timer per cluster and loop;
/// like the consecutive-failure triggers, each loop judges what it saw.
extension UpstreamCluster {
    /// nil when success rates can never be compared: detection off, `enforcing_success_rate`
    /// 0, or fewer endpoints than `success_rate_minimum_hosts`. Then no timer runs either.
    static func successRateRule(for config: ClusterConfiguration) -> SuccessRateOutlierRule? {
        let outlier = config.outlierDetection
        guard outlier.enabled, outlier.enforcingSuccessRate > 0,
              config.endpoints.count >= outlier.successRateMinimumHosts else { return nil }
        return SuccessRateOutlierRule(outlier)
    }

    func scheduleSuccessRateEvaluation() {
        guard successRateRule != nil else { return }
        let interval = TimeAmount.milliseconds(Int64(config.outlierDetection.intervalMilliseconds))
        successRateTimer = eventLoop.assumeIsolated().scheduleTask(in: interval) { [weak self] in
            guard let self else { return }
            self.evaluateSuccessRates()
            self.scheduleSuccessRateEvaluation()
        }
    }

    /// Closes the interval: takes each endpoint's figures since the last marks, ejects the
    /// outliers (within `max_ejection_percent`, as every ejection), and starts the next.
    func evaluateSuccessRates() {
        guard let successRateRule else { return }
        var samples: [SuccessRateOutlierRule.Sample] = []
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
        guard let verdict = successRateRule.evaluate(samples) else { return }
        for index in verdict.outliers {
            stats.increment("outlier_detection_success_rate_outliers")
            let rate = samples.first { $0.endpointIndex == index }.map { percentText($0.successRate) } ?? "?"
            let ejectedBefore = health[index].timesEjected
            eject(index, reason: "success rate \(rate) below the threshold \(percentText(verdict.ejectionThreshold)) "
                      + "(average \(percentText(verdict.average)))",
                  enforcingPercent: config.outlierDetection.enforcingSuccessRate)
            if health[index].timesEjected > ejectedBefore { stats.increment("outlier_detection_ejections_success_rate") }
        }
    }

    private func percentText(_ value: Double) -> String {
        String(format: "%.1f%%", value)
    }
}
