import LuxyCore
import LuxyLua

/// A Lua stage's counters on one loop, under Envoy's names: `<stat_prefix>.lua.executions`
/// (one per phase the script defines and runs) and `<stat_prefix>.lua.errors` (a phase that
/// failed: a Lua error, the instruction budget, the memory cap); and its cost per phase:
/// `<stat_prefix>.lua.<phase>.executions`, `.errors` and `.time_ns` (the time its resumes ran,
/// `LuaPhaseClock`), with the time's distribution in the `luxy_lua_stage_seconds` histogram.
/// An HTTP stage's phases are request, response and log; a tcp stage's connect,
/// downstream_data, upstream_data and close. Registered once when the generation is built, so
/// counting is plain arithmetic on the loop that owns them: no lock, no hashing.
struct LuaStageCounters {
    /// A phase of either kind of stage; `rawValue` indexes its cost.
    enum Phase: Int, CaseIterable {
        case request, response, log
        case connect, downstreamData, upstreamData, close

        static let http: [Phase] = [.request, .response, .log]
        static let tcp: [Phase] = [.connect, .downstreamData, .upstreamData, .close]

        /// Its name in `/stats` and in the histogram's `phase` label.
        var name: String {
            switch self {
            case .request: "request"
            case .response: "response"
            case .log: "log"
            case .connect: "connect"
            case .downstreamData: "downstream_data"
            case .upstreamData: "upstream_data"
            case .close: "close"
            }
        }
    }

    let executions: StatCounter
    let errors: StatCounter
    /// By `Phase.rawValue`; nil for the other kind's phases.
    private let costs: [PhaseCost?]

    /// One phase's share. A class: reading a phase's share out of `costs` then costs one
    /// retain, where a struct of four counters cost four.
    private final class PhaseCost {
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

    init(statPrefix: String, stats: ProxyStats, stage: String = "", phases: [Phase] = Phase.http,
         platform: LuaPlatform? = nil, shard: LuaMetricShard? = nil) {
        executions = stats.counter(named: "\(statPrefix).lua.executions")
        errors = stats.counter(named: "\(statPrefix).lua.errors")
        costs = Phase.allCases.map { phase in
            guard phases.contains(phase) else { return nil }
            return PhaseCost("\(statPrefix).lua.\(phase.name)", stage: stage, phase: phase.name, stats: stats,
                             platform: platform, shard: shard)
        }
    }

    func started(_ phase: Phase) {
        executions.increment()
        costs[phase.rawValue]?.executions.increment()
    }

    func failed(_ phase: Phase) {
        errors.increment()
        costs[phase.rawValue]?.errors.increment()
    }

    /// The phase ended after running for `nanoseconds`.
    func ran(_ phase: Phase, nanoseconds: UInt64) {
        guard let cost = costs[phase.rawValue] else { return }
        cost.nanoseconds.add(Int(truncatingIfNeeded: nanoseconds))
        cost.histogram?.observe(Double(nanoseconds) / 1e9)
    }
}

extension LuaHTTPPhase {
    var stagePhase: LuaStageCounters.Phase {
        switch self {
        case .request: .request
        case .response: .response
        case .log: .log
        }
    }
}

extension LuaTCPEvent {
    var stagePhase: LuaStageCounters.Phase {
        switch self {
        case .connect: .connect
        case .downstreamData: .downstreamData
        case .upstreamData: .upstreamData
        case .close: .close
        }
    }
}

@available(*, unavailable)
extension LuaStageCounters: Sendable {}
