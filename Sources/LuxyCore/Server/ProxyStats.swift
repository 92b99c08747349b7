/// Counters of one event loop. Each loop counts on its own (no lock, no atomic); readers sum
/// the loops' snapshots off the hot path.
public final class ProxyStats {
    /// Counted on every request, so kept in a field rather than hashed into the dictionary.
    var downstreamRequests = 0
    private var named: [String: Int] = [:]

    public init() {}

    /// Every counter, for the admin API.
    public var counters: [String: Int] {
        var all = named
        if downstreamRequests > 0 { all["downstream_requests"] = downstreamRequests }
        return all
    }

    func value(of name: String) -> Int {
        named[name] ?? 0
    }

    public func increment(_ name: String, by amount: Int = 1) {
        named[name, default: 0] += amount
    }
}

@available(*, unavailable)
extension ProxyStats: Sendable {}
