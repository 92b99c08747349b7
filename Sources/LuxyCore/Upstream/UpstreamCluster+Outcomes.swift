import LuxyConfig
import NIOCore

/// What attempts tell the cluster, and what it makes of it: the endpoint figures, passive
/// outlier detection (Envoy's `outlier_detection`), and the active checker's verdicts.
///
/// Passive detection is per loop: each loop's cluster counts the failures it saw and ejects
/// on its own. Envoy pools them per cluster on its main thread, which costs a cross-thread
/// message per request; here a loop sees `consecutive_*` failures of its own before the
/// endpoint leaves *its* rotation, with no hop on the request path. (Active checks, which
/// are per process, take an endpoint out of every loop at once.)
extension UpstreamCluster {
    /// Once per attempt `pickPool` started, however it ended.
    func recordOutcome(of pick: UpstreamPick, _ outcome: UpstreamAttemptOutcome) {
        let index = pick.endpointIndex
        guard index < health.count else { return }
        health[index].activeRequests = max(0, health[index].activeRequests - 1)
        switch outcome {
        case .success:
            health[index].successes += 1
            health[index].consecutive5xx = 0
            health[index].consecutiveGatewayFailures = 0
            return
        case .status5xx:
            health[index].errors5xx += 1
            health[index].consecutive5xx += 1
            health[index].consecutiveGatewayFailures = 0
        case .gatewayFailure:
            // Envoy counts a locally seen failure as a 5xx too (without split_external_local_origin_errors).
            health[index].gatewayFailures += 1
            health[index].consecutive5xx += 1
            health[index].consecutiveGatewayFailures += 1
        case .abandoned:
            return
        }
        let outlier = config.outlierDetection
        guard outlier.enabled, health[index].ejection == .included else { return }
        let endpoint = health[index]
        if outlier.consecutiveGatewayFailure > 0, endpoint.consecutiveGatewayFailures >= outlier.consecutiveGatewayFailure {
            eject(index, reason: "\(endpoint.consecutiveGatewayFailures) consecutive gateway failures",
                  enforcingPercent: outlier.enforcingConsecutiveGatewayFailure)
        } else if outlier.consecutive5xx > 0, endpoint.consecutive5xx >= outlier.consecutive5xx {
            eject(index, reason: "\(endpoint.consecutive5xx) consecutive 5xx", enforcingPercent: outlier.enforcingConsecutive5xx)
        }
    }

    /// Envoy's rule: no more than `max_ejection_percent` of the endpoints at once, but one may
    /// always be ejected, so a cluster of two or three is covered by the default 10%.
    var maxEjected: Int {
        max(1, pools.count * config.outlierDetection.maxEjectionPercent / 100)
    }

    /// Ejects endpoint `index` with probability `enforcingPercent` (Envoy's `enforcing_*`);
    /// the run of failures that found it starts again either way.
    func eject(_ index: Int, reason: String, enforcingPercent: Int) {
        health[index].consecutive5xx = 0
        health[index].consecutiveGatewayFailures = 0
        guard enforcingPercent >= 100 || Int.random(in: 0..<100, using: &random) < enforcingPercent else { return }
        guard ejectedCount < maxEjected else {
            // Counted once per run of failures, not per request.
            stats.increment("outlier_detection_ejections_overflow")
            return
        }
        let outlier = config.outlierDetection
        health[index].timesEjected += 1
        let milliseconds = min(outlier.baseEjectionMilliseconds * health[index].timesEjected,
                               max(outlier.maxEjectionMilliseconds, outlier.baseEjectionMilliseconds))
        let until = eventLoop.now + .milliseconds(Int64(milliseconds))
        changeHealth(of: index) { $0.ejection = .ejected(until: until) }
        ejectedCount += 1
        stats.increment("outlier_detection_ejections")
        logger.warning("cluster '\(config.name)': endpoint \(config.endpoints[index]) ejected for \(milliseconds) ms (\(reason))")
        ejectionTimers[index]?.cancel()
        ejectionTimers[index] = eventLoop.assumeIsolated().scheduleTask(deadline: until) { [weak self] in
            self?.endEjection(of: index)
        }
    }

    /// The ejection time is over: the endpoint is back on its own (Envoy's behaviour; a
    /// still-dead one is ejected again after the next run of failures, for longer).
    private func endEjection(of index: Int) {
        ejectionTimers[index] = nil
        guard case .ejected = health[index].ejection else { return }
        changeHealth(of: index) { $0.ejection = .included }
        ejectedCount -= 1
        stats.increment("outlier_detection_returns")
        logger.info("cluster '\(config.name)': endpoint \(config.endpoints[index]) back in rotation after ejection")
    }

    /// The active checker's verdict for endpoint `index`, pushed to every loop.
    func setActiveHealth(of index: Int, to verdict: UpstreamEndpointHealth.ActiveHealth) {
        guard index < health.count, health[index].active != verdict else { return }
        changeHealth(of: index) { $0.active = verdict }
    }

    /// Keeps `unavailableCount` in step with the endpoints' availability.
    private func changeHealth(of index: Int, _ change: (inout UpstreamEndpointHealth) -> Void) {
        let wasAvailable = health[index].isAvailable
        change(&health[index])
        let isAvailable = health[index].isAvailable
        if wasAvailable, !isAvailable { unavailableCount += 1 }
        if !wasAvailable, isAvailable { unavailableCount -= 1 }
    }

    /// Takes over what `previous` (the same endpoints, other settings, replaced by a reload)
    /// knew about them: health, ejections in force, figures.
    func inheritHealth(from previous: UpstreamCluster) {
        guard previous.config.endpoints == config.endpoints else { return }
        for index in health.indices {
            var carried = previous.health[index]
            carried.activeRequests = 0
            changeHealth(of: index) { $0 = carried }
            if case .ejected(let until) = carried.ejection {
                ejectedCount += 1
                ejectionTimers[index] = eventLoop.assumeIsolated().scheduleTask(deadline: until) { [weak self] in
                    self?.endEjection(of: index)
                }
            }
        }
    }
}
