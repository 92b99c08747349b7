import NIOCore

/// One endpoint's health and figures as one loop's cluster sees them. Loop-confined with its
/// cluster (a value inside it).
struct UpstreamEndpointHealth {
    /// The active health checker's verdict, the same on every loop (pushed by `HealthCheckService`).
    enum ActiveHealth: Equatable {
        /// Not checked, or passing.
        case healthy
        /// Failed `unhealthy_threshold` checks in a row.
        case failing
    }

    /// Passive outlier detection's verdict, this loop's own.
    enum Ejection: Equatable {
        case included
        case ejected(until: NIODeadline)
    }

    var active = ActiveHealth.healthy
    var ejection = Ejection.included
    /// Ejections so far: the next one lasts `base_ejection_time` × this (capped).
    var timesEjected = 0
    var consecutive5xx = 0
    var consecutiveGatewayFailures = 0
    /// Attempts picked and not yet ended: what `least_request` compares.
    var activeRequests = 0
    var successes = 0
    var errors5xx = 0
    var gatewayFailures = 0
    /// Success-rate detection's marks: `requests` and `successes` when the current interval
    /// began, so the request path only bumps the totals above (nothing more per request).
    var requestsAtIntervalStart = 0
    var successesAtIntervalStart = 0
    /// The interval before the current one, as `/clusters` shows it.
    var lastIntervalRequests = 0
    var lastIntervalSuccesses = 0

    /// Every attempt with an outcome the endpoint answers for (abandoned ones are not).
    var requests: Int { successes + errors5xx + gatewayFailures }

    var isAvailable: Bool { active == .healthy && ejection == .included }
}
