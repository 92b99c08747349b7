/// Counters of one event loop. Each loop counts on its own (no lock, no atomic); readers sum
/// the loops' snapshots off the hot path.
public final class ProxyStats {
    /// Counted on every request, so kept in a field rather than hashed into the dictionary.
    var downstreamRequests = 0
    private var named: [String: Int] = [:]
    /// Counters that components hold on to (see `counter(named:)`), shown even at 0.
    private var registered: [String: StatCounter] = [:]

    public init() {}

    /// Every counter, for the admin API.
    public var counters: [String: Int] {
        var all = named
        if downstreamRequests > 0 { all["downstream_requests"] = downstreamRequests }
        for (name, counter) in registered { all[name, default: 0] += counter.value }
        return all
    }

    /// The counter called `name`, for a component to keep and bump on the hot path. The same
    /// name gives the same counter, so a stage rebuilt by a reload keeps counting where the
    /// old generation's left off.
    public func counter(named name: String) -> StatCounter {
        if let counter = registered[name] { return counter }
        let counter = StatCounter()
        registered[name] = counter
        return counter
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
