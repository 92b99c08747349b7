/// A cluster's `circuit_breakers:` (Envoy's default-priority `thresholds`, flattened): bounds
/// on what one cluster may hold at once. Luxy applies them per event loop (per worker), as
/// its pools are per loop: with `workers: N` the process-wide bound is N times these.
/// An immutable value of the configuration snapshot.
public struct CircuitBreakersConfiguration: Sendable, Equatable {
    /// Open connections to all of the cluster's endpoints (HTTP/1.1 pools).
    public var maxConnections = 1024
    /// Requests waiting for a connection to be opened.
    public var maxPendingRequests = 1024
    /// Requests in flight to the cluster.
    public var maxRequests = 1024
    /// Retries in flight to the cluster.
    public var maxRetries = 3
    /// `retry_budget.budget_percent`: retries in flight as a share of the requests in flight.
    public var retryBudgetPercent = 20.0
    /// `retry_budget.min_retry_concurrency`: retries always allowed, whatever the share.
    public var minRetryConcurrency = 3

    public init() {}
}
