/// Counters of one event loop. Each loop counts on its own (no lock, no atomic); readers sum
/// the loops' snapshots off the hot path.
public final class ProxyStats {
    public private(set) var counters: [String: Int] = [:]

    public init() {}

    public func increment(_ name: String, by amount: Int = 1) {
        counters[name, default: 0] += amount
    }
}

@available(*, unavailable)
extension ProxyStats: Sendable {}
