import Logging
import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore

/// One Lua script in an HTTP chain, on one loop. All stages of a request share one
/// `LuaHTTPStream` (kept in `exchange.pluginState`), so dynamic metadata set by one stage is
/// seen by the next, as in Envoy. A phase the script does not define costs nothing: the
/// chain skips it (`handlesRequest`/`handlesResponse`) and never enters the VM.
final class LuaHTTPStage: LuaStage, HTTPStage {
    /// The Lua states of the requests on this stage's VM, shared by its stages.
    let states: LuaExchangeStatePool
    let counters: LuaStageCounters

    /// The stages routes run in this one's slot instead (`per_stage: … script:`), by script name.
    private let alternates: [String: HTTPStage]

    init(resolved: ResolvedStage, script: LuaScript, vm: LuaVM, logger: Logger, states: LuaExchangeStatePool,
         counters: LuaStageCounters, alternates: [String: HTTPStage] = [:]) {
        self.states = states
        self.counters = counters
        self.alternates = alternates
        super.init(resolved: resolved, script: script, vm: vm, logger: logger)
    }

    func alternate(running script: String) -> HTTPStage? {
        alternates[script]
    }

    var handlesRequest: Bool { script.handlesRequest }
    var handlesResponse: Bool { script.handlesResponse }
    var handlesLog: Bool { script.handlesLog }
    /// A stage scoped to no service logs requests no route matched, too.
    var appliesWithoutRoute: Bool { resolved.configuration.services.isEmpty }

    func applies(to route: RouteMatch) -> Bool {
        resolved.configuration.applies(toService: route.service)
    }

    // The chain calls these only for phases the script defines, so each is one execution.
    func runRequest(_ exchange: HTTPExchange) {
        counters.started(.request)
        states.state(of: exchange).run(self, .request)
    }

    func runResponse(_ exchange: HTTPExchange) {
        let state = states.state(of: exchange)
        // Skipped by the script (`skipPhase`): not run, so not counted, as a phase it lacks.
        if state.stream.skips(script, .response) { return exchange.resume(.proceed) }
        counters.started(.response)
        state.run(self, .response)
    }

    /// The log phase: its outcome is logged and counted like any phase's, but changes nothing
    /// (the response is gone); the chain goes on to the next stage's log phase.
    func runLog(_ exchange: HTTPExchange) {
        let state = states.state(of: exchange)
        if state.stream.skips(script, .log) { return exchange.resume(.proceed) }
        counters.started(.log)
        state.runLog(self)
    }

    /// What the chain makes of how a phase ended.
    func verdict(for outcome: LuaPhaseOutcome, phase: LuaHTTPPhase, nanoseconds: UInt64) -> StageVerdict {
        counters.ran(phase.stagePhase, nanoseconds: nanoseconds)
        switch outcome {
        case .completed:
            return .proceed
        case .responded:
            return phase == .request ? .responded : .proceed
        case .failed(let error) where phase == .log:
            counters.failed(.log)
            logger.error("plugin failed", metadata: ["error": "\(error.message)", "phase": "log"])
            return .proceed
        case .failed(let error):
            counters.failed(phase.stagePhase)
            let failOpen = resolved.configuration.failOpen
            logger.error("plugin failed", metadata: [
                "error": "\(error.message)", "phase": "\(phase)", "fail_open": "\(failOpen)",
            ])
            return failOpen ? .proceed : .failed(error.message)
        }
    }

    static func finish(_ exchange: HTTPExchange) {
        guard let state = LuaExchangeState.of(exchange) else { return }
        exchange.pluginState = nil
        state.finish()
    }
}
