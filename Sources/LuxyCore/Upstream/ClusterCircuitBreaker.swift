import LuxyConfig

/// Which of a cluster's `circuit_breakers` tripped.
public enum CircuitBreakerLimit: Equatable, Sendable {
    case connections
    case pendingRequests
    case requests
    case retries

    /// Envoy's counter names, but for `max_requests`, which Envoy counts under
    /// `upstream_rq_pending_overflow` too: apart here, so an operator sees which bound tripped.
    var counterName: String {
        switch self {
        case .connections: return "upstream_cx_overflow"
        case .pendingRequests: return "upstream_rq_pending_overflow"
        case .requests: return "upstream_rq_overflow"
        case .retries: return "upstream_rq_retry_overflow"
        }
    }

    var configName: String {
        switch self {
        case .connections: return "max_connections"
        case .pendingRequests: return "max_pending_requests"
        case .requests: return "max_requests"
        case .retries: return "max_retries"
        }
    }
}

/// What one cluster holds on one event loop against its `circuit_breakers`: requests in flight,
/// requests waiting for a connection, retries in flight, open connections. Plain counters on a
/// loop-confined object: admitting a request costs an increment and a compare, no lock.
///
/// Per loop, as the pools are: with `workers: N` the bounds hold per worker.
final class ClusterCircuitBreaker {
    let limits: CircuitBreakersConfiguration
    private(set) var activeRequests = 0
    private(set) var pendingRequests = 0
    private(set) var activeRetries = 0
    private(set) var openConnections = 0

    init(limits: CircuitBreakersConfiguration) {
        self.limits = limits
    }

    /// A request to the cluster starts; false (and nothing counted) over `max_requests`.
    func admitRequest() -> Bool {
        guard activeRequests < limits.maxRequests else { return false }
        activeRequests += 1
        return true
    }

    func requestEnded() { activeRequests -= 1 }

    /// A request starts waiting for a new connection; false over `max_pending_requests`.
    func admitPending() -> Bool {
        guard pendingRequests < limits.maxPendingRequests else { return false }
        pendingRequests += 1
        return true
    }

    func pendingEnded() { pendingRequests -= 1 }

    /// A retry may start: under `max_retries`, and under the retry budget — a share of the
    /// requests in flight, with `min_retry_concurrency` always allowed (Envoy's `retry_budget`).
    func admitRetry() -> Bool {
        let budget = max(limits.minRetryConcurrency,
                         Int(Double(activeRequests) * limits.retryBudgetPercent / 100))
        guard activeRetries < min(limits.maxRetries, budget) else { return false }
        activeRetries += 1
        return true
    }

    func retryEnded() { activeRetries -= 1 }

    /// A connection is about to be opened; false over `max_connections`.
    func admitConnection() -> Bool {
        guard openConnections < limits.maxConnections else { return false }
        openConnections += 1
        return true
    }

    /// A connection admitted failed to open, or closed.
    func connectionClosed() { openConnections -= 1 }
}

@available(*, unavailable)
extension ClusterCircuitBreaker: Sendable {}
