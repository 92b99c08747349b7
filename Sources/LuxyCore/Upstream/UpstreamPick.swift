/// The endpoint `UpstreamCluster.pickPool` chose for one attempt, and its connections. Handed
/// back with the attempt's outcome (`recordOutcome`), which closes the attempt.
struct UpstreamPick {
    let endpointIndex: Int
    let pool: any UpstreamConnectionProvider
}
