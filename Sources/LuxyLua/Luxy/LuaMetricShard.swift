/// One event loop's values of every Lua metric family: counted with plain arithmetic on the
/// loop, no lock and no atomic per observation; summed over the loops when `/metrics` is read.
/// It outlives the loop's VMs (the registry keeps it by loop), so values carry over reloads.
///
/// Loop-confined: changed only on its loop, and read only there too, through the executor the
/// registry keeps beside it (`LuaMetricRegistry.snapshot` hops onto each loop). That is the
/// invariant `@unchecked Sendable` stands on: the registry, shared by all loops, holds it.
public final class LuaMetricShard: @unchecked Sendable {
    /// The values of one family on this loop.
    final class FamilyValues {
        let family: LuaMetricFamily
        /// Series by their label values joined with "\u{1}".
        var series: [String: Int] = [:]
        var values: [SeriesValue] = []
        /// Observations of label sets over the bound, dropped.
        var dropped = 0
        /// Label sets the bound refused on this loop, so a refusal takes the lock once.
        var refused: Set<String> = []
        /// The series the last observation went to (`LuaVM.lastSeriesIndex`).
        private(set) var lastSeries: Int?

        init(family: LuaMetricFamily) {
            self.family = family
        }

        /// A counter's or gauge's increment of the series at `index`.
        func add(_ amount: Double, series index: Int) {
            values[index].value += amount
        }

        /// A gauge's new value for the series at `index`.
        func set(_ amount: Double, series index: Int) {
            values[index].value = amount
        }

        /// A histogram's observation of `amount` in the series at `index`, counted in its
        /// bucket (the first whose bound is not below it; none past the last: `+Inf`). The
        /// bounds are read where the family keeps them: no copy of the list per observation.
        func observe(_ amount: Double, series index: Int) {
            let bucket = family.definition.buckets.withUnsafeBufferPointer { bounds in
                bounds.firstIndex { !(amount > $0) } ?? bounds.count
            }
            if bucket < values[index].buckets.count { values[index].buckets[bucket] += 1 }
            values[index].value += amount
            values[index].count += 1
        }

        /// The index of the series for `labels`, made on first sight; nil when over the bound.
        func seriesIndex(_ labels: [String]) -> Int? {
            let key = labels.joined(separator: "\u{1}")
            if let index = series[key] {
                lastSeries = index
                return index
            }
            guard !refused.contains(key), family.admit(key) else {
                refused.insert(key)
                dropped += 1
                return nil
            }
            let index = values.count
            values.append(SeriesValue(labels: labels, buckets: Array(repeating: 0, count: family.definition.buckets.count)))
            series[key] = index
            lastSeries = index
            return index
        }
    }

    struct SeriesValue {
        let labels: [String]
        /// A counter's total, a gauge's value, a histogram's sum.
        var value: Double = 0
        /// A histogram's observations per bucket (not cumulative), and in all.
        var buckets: [UInt64]
        var count: UInt64 = 0

        init(labels: [String], buckets: [UInt64]) {
            self.labels = labels
            self.buckets = buckets
        }
    }

    private var families: [ObjectIdentifier: FamilyValues] = [:]

    public init() {}

    func values(of family: LuaMetricFamily) -> FamilyValues {
        if let values = families[ObjectIdentifier(family)] { return values }
        let values = FamilyValues(family: family)
        families[ObjectIdentifier(family)] = values
        return values
    }

    /// Forgets families the registry no longer exports (a reload changed their definition).
    func retain(only current: Set<ObjectIdentifier>) {
        families = families.filter { current.contains($0.key) }
    }

    /// This loop's series of `family`, buckets not cumulative: what `luxy test` reads back
    /// (`luxy_test.metric`), on the loop the shard belongs to.
    public func series(of family: LuaMetricFamily) -> [LuaMetricSeriesSnapshot] {
        guard let values = families[ObjectIdentifier(family)] else { return [] }
        return values.values.map {
            LuaMetricSeriesSnapshot(family: family, labels: $0.labels, value: $0.value, buckets: $0.buckets,
                                    count: $0.count, dropped: 0)
        }
    }

    /// This loop's values, for the scrape.
    func snapshot() -> [LuaMetricSeriesSnapshot] {
        families.values.flatMap { family in
            family.values.map {
                LuaMetricSeriesSnapshot(family: family.family, labels: $0.labels, value: $0.value, buckets: $0.buckets,
                                        count: $0.count, dropped: 0)
            } + (family.dropped > 0
                ? [LuaMetricSeriesSnapshot(family: family.family, labels: nil, value: 0, buckets: [], count: 0,
                                           dropped: family.dropped)]
                : [])
        }
    }
}
