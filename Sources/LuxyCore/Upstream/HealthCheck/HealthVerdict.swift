import LuxyConfig

/// A change of an endpoint's active-check verdict, on its way from the checker to every
/// loop's cluster. Only clusters configured with the same `endpoints` apply it.
struct HealthVerdict: Sendable {
    let cluster: String
    let endpoints: [ClusterConfiguration.Endpoint]
    let index: Int
    let verdict: UpstreamEndpointHealth.ActiveHealth
}

/// Delivers verdicts to every loop (`ProxyServer` makes it: one `execute` per loop and
/// transition, never on the request path).
struct HealthVerdictPublisher: Sendable {
    let publish: @Sendable (HealthVerdict) -> Void

    func publish(_ verdict: HealthVerdict) { publish(verdict) }
}
