/// One endpoint's figures over one outlier-detection `interval`: what the success-rate and
/// failure-percentage rules judge. Made once per interval, off the request path.
struct EndpointIntervalSample: Equatable {
    let endpointIndex: Int
    let requests: Int
    let successes: Int

    /// In percent, as Envoy shows it.
    var successRate: Double { requests == 0 ? 100 : Double(successes) * 100 / Double(requests) }
}
