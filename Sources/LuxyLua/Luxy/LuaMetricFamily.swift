import NIOConcurrencyHelpers

/// One metric family of the process: its definition and the label sets admitted under the
/// cardinality bound. Its values live per loop (`LuaMetricShard`); the lock here is taken
/// only the first time a loop sees a label set, never per observation.
public final class LuaMetricFamily: Sendable {
    public let definition: LuaMetricDefinition
    /// The VM that declared it first (`LuaMetricRegistry.nextVMSerial`): a different
    /// definition from that same VM is a conflict between two of its scripts, one from a later
    /// VM is a reload's new definition.
    let declaredBy: Int
    private let admitted: NIOLockedValueBox<Set<String>>
    let maxSeries: Int

    init(definition: LuaMetricDefinition, declaredBy: Int, maxSeries: Int) {
        self.definition = definition
        self.declaredBy = declaredBy
        self.maxSeries = maxSeries
        self.admitted = NIOLockedValueBox([])
    }

    /// Whether the label set `key` may have a series: it has one already, or the family is
    /// under its bound.
    func admit(_ key: String) -> Bool {
        admitted.withLockedValue { set in
            if set.contains(key) { return true }
            guard set.count < maxSeries else { return false }
            set.insert(key)
            return true
        }
    }
}
