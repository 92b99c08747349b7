import NIOConcurrencyHelpers

/// Every metric family scripts declared, and every loop's values, for the process. Families
/// are kept by name across reloads while their definition is unchanged; a changed one starts
/// from zero.
///
/// Thread-safe: its lock is taken when a script declares a metric (top-level code) and when
/// `/metrics` is read, never per observation (those go to the loop's `LuaMetricShard`).
public final class LuaMetricRegistry: Sendable {
    /// A loop's shard and how to run code on that loop.
    private struct Loop {
        var shard: LuaMetricShard
        var executor: @Sendable (@escaping @Sendable () -> Void) -> Void
    }

    private struct State {
        var families: [String: LuaMetricFamily] = [:]
        var loops: [Int: Loop] = [:]
        var maxSeries = 1000
        var vmSerials = 0
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// `limits.lua_metric_max_series`, for families declared from now on.
    public func setMaxSeries(_ maxSeries: Int) {
        state.withLockedValue { $0.maxSeries = maxSeries }
    }

    func nextVMSerial() -> Int {
        state.withLockedValue { state in
            state.vmSerials += 1
            return state.vmSerials
        }
    }

    /// The shard of loop `key`, made on first use; `executor` runs work on that loop.
    public func shard(forLoop key: Int, executor: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void)
        -> LuaMetricShard {
        state.withLockedValue { state in
            if let loop = state.loops[key] { return loop.shard }
            let shard = LuaMetricShard()
            state.loops[key] = Loop(shard: shard, executor: executor)
            return shard
        }
    }

    /// The family for `definition` declared by VM `serial`: the existing one when equal, a new
    /// one replacing an older VM's different definition; a conflict within one VM throws.
    func declare(_ definition: LuaMetricDefinition, by serial: Int) throws(LuaRaise) -> LuaMetricFamily {
        let family: LuaMetricFamily? = state.withLockedValue { state in
            if let existing = state.families[definition.name] {
                if existing.definition == definition { return existing }
                // Two scripts of one VM disagree: neither may silently take the other's name.
                if existing.declaredBy == serial { return nil }
            }
            let family = LuaMetricFamily(definition: definition, declaredBy: serial, maxSeries: state.maxSeries)
            state.families[definition.name] = family
            return family
        }
        guard let family else {
            throw LuaRaise("metric '\(definition.name)' is already declared differently by another script")
        }
        return family
    }

    /// The family now exported under `name` (the latest definition), nil when none was declared.
    public func family(named name: String) -> LuaMetricFamily? {
        state.withLockedValue { $0.families[name] }
    }

    /// Every family summed over the loops, by name; each loop is read on its loop.
    public func snapshot() async -> [LuaMetricFamilySnapshot] {
        let (families, loops) = state.withLockedValue { ($0.families, Array($0.loops.values)) }
        let current = Set(families.values.map(ObjectIdentifier.init))
        var perLoop: [LuaMetricSeriesSnapshot] = []
        for loop in loops {
            let shard = loop.shard
            perLoop += await withCheckedContinuation { continuation in
                loop.executor {
                    shard.retain(only: current)
                    continuation.resume(returning: shard.snapshot())
                }
            }
        }
        return families.values.sorted { $0.definition.name < $1.definition.name }.map { family in
            var totals: [[String]: LuaMetricSeriesTotal] = [:]
            var order: [[String]] = []
            var dropped = 0
            for sample in perLoop where sample.family === family {
                dropped += sample.dropped
                guard let labels = sample.labels else { continue }
                if totals[labels] == nil {
                    order.append(labels)
                    totals[labels] = LuaMetricSeriesTotal(labels: labels, value: 0,
                                                          buckets: Array(repeating: 0, count: sample.buckets.count),
                                                          count: 0)
                }
                totals[labels]!.value += sample.value
                totals[labels]!.count += sample.count
                for (i, n) in sample.buckets.enumerated() { totals[labels]!.buckets[i] += n }
            }
            let series = order.sorted { $0.lexicographicallyPrecedes($1) }.compactMap { labels -> LuaMetricSeriesTotal? in
                guard var total = totals[labels] else { return nil }
                var running: UInt64 = 0
                total.buckets = total.buckets.map { running += $0; return running }
                return total
            }
            return LuaMetricFamilySnapshot(definition: family.definition, series: series, dropped: dropped)
        }
    }
}
