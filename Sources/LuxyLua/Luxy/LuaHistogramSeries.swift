/// One series of a histogram on one loop, resolved once (when a generation is built) so that
/// an observation is a bucket search and three additions: no hashing, no lock. Loop-confined,
/// as the shard it writes to.
public struct LuaHistogramSeries {
    let values: LuaMetricShard.FamilyValues
    let index: Int

    @inline(__always) public func observe(_ amount: Double) {
        values.observe(amount, series: index)
    }
}

extension LuaMetricRegistry {
    /// The built-in histogram of the time each Lua stage's phases spend running.
    public static let stageTime = LuaMetricDefinition(
        name: "luxy_lua_stage_seconds",
        help: "Time a Lua stage's phase spent running (its resumes, not its waits), per stage and phase.",
        kind: .histogram, labelNames: ["stage", "phase"],
        buckets: [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1])

    /// The series of `stage`'s `phase` in the built-in stage-time histogram, on `shard`'s loop.
    public func stageTimeSeries(shard: LuaMetricShard, stage: String, phase: String) -> LuaHistogramSeries? {
        // Serial 0 is no VM's: scripts cannot declare luxy_lua_* names, so nothing conflicts.
        guard let family = try? declare(Self.stageTime, by: 0) else { return nil }
        let values = shard.values(of: family)
        return values.seriesIndex([stage, phase]).map { LuaHistogramSeries(values: values, index: $0) }
    }
}
