/// The active checks' record of one endpoint: the verdict, and the run of passes or failures
/// that moves it (Envoy's `healthy_threshold` / `unhealthy_threshold`). A value in its
/// checker, confined to the checker's loop.
struct EndpointCheckRecord {
    enum Run {
        case none
        case passes(Int)
        case failures(Int)
    }

    /// Endpoints start healthy: traffic flows at once, and a dead one is out after
    /// `unhealthy_threshold` checks. (Envoy starts them failing until the first pass.)
    var verdict = UpstreamEndpointHealth.ActiveHealth.healthy
    var run = Run.none

    /// Counts one check; the new verdict when this one changed it.
    mutating func record(passed: Bool, healthyThreshold: Int, unhealthyThreshold: Int)
        -> UpstreamEndpointHealth.ActiveHealth?
    {
        switch (passed, run) {
        case (true, .passes(let count)): run = .passes(count + 1)
        case (true, _): run = .passes(1)
        case (false, .failures(let count)): run = .failures(count + 1)
        case (false, _): run = .failures(1)
        }
        switch (verdict, run) {
        case (.healthy, .failures(let count)) where count >= unhealthyThreshold:
            verdict = .failing
            return .failing
        case (.failing, .passes(let count)) where count >= healthyThreshold:
            verdict = .healthy
            return .healthy
        default:
            return nil
        }
    }
}
