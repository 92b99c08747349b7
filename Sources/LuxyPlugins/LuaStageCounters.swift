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
    /// A phase of either kind of stage.
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
    /// Each phase's share, nil for the other kind's phases. Constant fields rather than an
    /// array: a phase's share is then reached without a retain and a release (an element read
    /// out of an array is a copy, its class included), and the counters are touched twice in
    /// every phase run.
    private let request, response, log: PhaseCost?
    private let connect, downstreamData, upstreamData, close: PhaseCost?

    /// One phase's share.
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

        func ran(nanoseconds amount: UInt64) {
            nanoseconds.add(Int(truncatingIfNeeded: amount))
            histogram?.observe(Double(amount) / 1e9)
        }
    }

    init(statPrefix: String, stats: ProxyStats, stage: String = "", phases: [Phase] = Phase.http,
         platform: LuaPlatform? = nil, shard: LuaMetricShard? = nil) {
        executions = stats.counter(named: "\(statPrefix).lua.executions")
        errors = stats.counter(named: "\(statPrefix).lua.errors")
        func cost(_ phase: Phase) -> PhaseCost? {
            guard phases.contains(phase) else { return nil }
            return PhaseCost("\(statPrefix).lua.\(phase.name)", stage: stage, phase: phase.name, stats: stats,
                             platform: platform, shard: shard)
        }
        request = cost(.request)
        response = cost(.response)
        log = cost(.log)
        connect = cost(.connect)
        downstreamData = cost(.downstreamData)
        upstreamData = cost(.upstreamData)
        close = cost(.close)
    }

    func started(_ phase: Phase) {
        executions.increment()
        withCost(of: phase) { $0.executions.increment() }
    }

    func failed(_ phase: Phase) {
        errors.increment()
        withCost(of: phase) { $0.errors.increment() }
    }

    /// The phase ended after running for `nanoseconds`.
    func ran(_ phase: Phase, nanoseconds: UInt64) {
        withCost(of: phase) { $0.ran(nanoseconds: nanoseconds) }
    }

    /// `body` on the phase's share, borrowed where it is kept (none: nothing to count).
    @inline(__always)
    private func withCost(of phase: Phase, _ body: (PhaseCost) -> Void) {
        switch phase {
        case .request: if let request { body(request) }
        case .response: if let response { body(response) }
        case .log: if let log { body(log) }
        case .connect: if let connect { body(connect) }
        case .downstreamData: if let downstreamData { body(downstreamData) }
        case .upstreamData: if let upstreamData { body(upstreamData) }
        case .close: if let close { body(close) }
        }
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
