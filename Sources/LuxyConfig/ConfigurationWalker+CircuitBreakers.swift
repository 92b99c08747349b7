import Yams

/// A cluster's `circuit_breakers:`, with Envoy's key names (one set of thresholds).
extension ConfigurationWalker {
    mutating func circuitBreakers(_ node: Node) -> CircuitBreakersConfiguration {
        var breakers = CircuitBreakersConfiguration()
        guard let fields = reader.fields(
            node, context: "circuit_breakers",
            allowed: ["max_connections", "max_pending_requests", "max_requests", "max_retries", "retry_budget"])
        else { return breakers }
        if let value = reader.positiveInt(fields, "max_connections") { breakers.maxConnections = value }
        if let value = reader.positiveInt(fields, "max_pending_requests") { breakers.maxPendingRequests = value }
        if let value = reader.positiveInt(fields, "max_requests") { breakers.maxRequests = value }
        if let value = reader.nonNegativeInt(fields, "max_retries") { breakers.maxRetries = value }
        if let node = fields["retry_budget"],
           let budget = reader.fields(node, context: "retry_budget", allowed: ["budget_percent", "min_retry_concurrency"]) {
            if let node = budget.rawValue("budget_percent") {
                let value = node.float ?? node.int.map(Double.init)
                if let value, (0...100).contains(value), node.tagName == .int || node.tagName == .float {
                    breakers.retryBudgetPercent = value
                } else {
                    reader.report("'budget_percent' must be a number from 0 to 100", at: node)
                }
            }
            if let value = reader.nonNegativeInt(budget, "min_retry_concurrency") { breakers.minRetryConcurrency = value }
        }
        return breakers
    }
}
