import LuxyCore

/// A Lua stage's counters on one loop, under Envoy's names: `<stat_prefix>.lua.executions`
/// (one per phase the script defines and runs) and `<stat_prefix>.lua.errors` (a phase that
/// failed: a Lua error, the instruction budget, the memory cap). Registered once when the
/// generation is built, so counting is a plain increment on the loop that owns them.
struct LuaStageCounters {
    let executions: StatCounter
    let errors: StatCounter

    init(statPrefix: String, stats: ProxyStats) {
        executions = stats.counter(named: "\(statPrefix).lua.executions")
        errors = stats.counter(named: "\(statPrefix).lua.errors")
    }
}

@available(*, unavailable)
extension LuaStageCounters: Sendable {}
