import LuxyCore
import LuxyLua

/// A Lua stage's counters on one loop, under Envoy's names: `<stat_prefix>.lua.executions`
/// (one per phase the script defines and runs) and `<stat_prefix>.lua.errors` (a phase that
/// failed: a Lua error, the instruction budget, the memory cap); and its cost per phase:
/// `<stat_prefix>.lua.<phase>.executions`, `.errors` and `.time_ns` (the time its resumes ran,
/// `LuaPhaseClock`), with the time's distribution in the `luxy_lua_stage_seconds` histogram.
/// Registered once when the generation is built, so counting is plain arithmetic on the loop
/// that owns them: no lock, no hashing.
struct LuaStageCounters {
    let executions: StatCounter
    let errors: StatCounter
    private let request: PhaseCost
    private let response: PhaseCost

    /// One phase's share.
    private struct PhaseCost {
        let executions: StatCounter
        let errors: StatCounter
        let nanoseconds: StatCounter
        let histogram: LuaHistogramSeries?

        init(_ prefix: String, stage: String, phase: String, stats: ProxyStats, platform: LuaPlatform?,
             shard: LuaMetricShard?) {
            executions = stats.counter(named: "\(prefix).executions")
            errors = stats.counter(named: "\(prefix).errors")
            nanoseconds = stats.counter(named: "\(prefix).time_ns")
            histogram = shard.flatMap { platform?.metrics.stageTimeSeries(shard: $0, stage: stage, phase: phase) }
        }
    }

    init(statPrefix: String, stats: ProxyStats, stage: String = "", platform: LuaPlatform? = nil,
         shard: LuaMetricShard? = nil) {
        executions = stats.counter(named: "\(statPrefix).lua.executions")
        errors = stats.counter(named: "\(statPrefix).lua.errors")
        request = PhaseCost("\(statPrefix).lua.request", stage: stage, phase: "request", stats: stats,
                            platform: platform, shard: shard)
        response = PhaseCost("\(statPrefix).lua.response", stage: stage, phase: "response", stats: stats,
                             platform: platform, shard: shard)
    }

    func started(_ phase: LuaHTTPPhase) {
        executions.increment()
        (phase == .request ? request : response).executions.increment()
    }

    func failed(_ phase: LuaHTTPPhase) {
        errors.increment()
        (phase == .request ? request : response).errors.increment()
    }

    /// The phase ended after running for `nanoseconds`.
    func ran(_ phase: LuaHTTPPhase, nanoseconds: UInt64) {
        let cost = phase == .request ? request : response
        cost.nanoseconds.add(Int(truncatingIfNeeded: nanoseconds))
        cost.histogram?.observe(Double(nanoseconds) / 1e9)
    }
}

@available(*, unavailable)
extension LuaStageCounters: Sendable {}
