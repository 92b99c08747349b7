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

    init(resolved: ResolvedStage, script: LuaScript, vm: LuaVM, logger: Logger, states: LuaExchangeStatePool) {
        self.states = states
        super.init(resolved: resolved, script: script, vm: vm, logger: logger)
    }

    var handlesRequest: Bool { script.handlesRequest }
    var handlesResponse: Bool { script.handlesResponse }

    func applies(to route: RouteMatch) -> Bool {
        let services = resolved.configuration.services
        guard !services.isEmpty else { return true }
        guard let service = route.service else { return false }
        return services.contains(service)
    }

    func runRequest(_ exchange: HTTPExchange) {
        states.state(of: exchange).run(self, .request)
    }

    func runResponse(_ exchange: HTTPExchange) {
        states.state(of: exchange).run(self, .response)
    }

    /// What the chain makes of how a phase ended.
    func verdict(for outcome: LuaPhaseOutcome, phase: LuaHTTPPhase) -> StageVerdict {
        switch outcome {
        case .completed:
            return .proceed
        case .responded:
            return phase == .request ? .responded : .proceed
        case .failed(let error):
            let failOpen = resolved.configuration.failOpen
            logger.error("plugin failed", metadata: [
                "error": "\(error.message)", "phase": "\(phase)", "fail_open": "\(failOpen)",
            ])
            return failOpen ? .proceed : .failed(error.message)
        }
    }

    static func finish(_ exchange: HTTPExchange) {
        guard let state = exchange.pluginState as? LuaExchangeState else { return }
        exchange.pluginState = nil
        state.finish()
    }
}

/// The Lua side of one exchange, taken when its first Lua stage runs. It hears how each
/// phase ended and hands the stage's verdict to the exchange: one object per request, not a
/// closure per stage and phase; and once the request is over it goes back to its pool for
/// the next one on the same VM.
final class LuaExchangeState: LuaPhaseReceiver {
    let host: ExchangeLuaHost
    let stream: LuaHTTPStream
    /// Weak: the pool goes with its VM, and a request finishing after that just drops its state.
    private weak var pool: LuaExchangeStatePool?
    /// The stage whose phase runs now, and which phase.
    private var runningStage: LuaHTTPStage?
    private var runningPhase = LuaHTTPPhase.request

    fileprivate init(exchange: HTTPExchange, vm: LuaVM, pool: LuaExchangeStatePool) {
        host = ExchangeLuaHost(exchange: exchange)
        stream = LuaHTTPStream(vm: vm, host: host)
        self.pool = pool
    }

    /// The request is over: scripts' objects go out of scope, a waiting phase fails, and the
    /// state is kept for the next request.
    func finish() {
        stream.finish()
        runningStage = nil
        pool?.recycle(self)
    }

    fileprivate func reuse(for exchange: HTTPExchange) {
        host.rebind(to: exchange)
        stream.reopen()
    }

    func run(_ stage: LuaHTTPStage, _ phase: LuaHTTPPhase) {
        runningStage = stage
        runningPhase = phase
        host.currentLogger = stage.logger
        stream.run(stage.script, phase: phase, receiver: self)
    }

    func phaseEnded(_ outcome: LuaPhaseOutcome) {
        guard let stage = runningStage else { return }
        runningStage = nil
        host.exchange.resume(stage.verdict(for: outcome, phase: runningPhase))
    }

}

@available(*, unavailable)
extension LuaExchangeState: Sendable {}

/// The Lua states of one VM's requests: at most as many as requests in flight were made,
/// and a few kept for reuse. A kept state still points at its last exchange until reused,
/// so the pool is small; it goes with the VM (its generation on its loop).
final class LuaExchangeStatePool {
    private let vm: LuaVM
    private var idle: [LuaExchangeState] = []
    private static let maxIdle = 32

    init(vm: LuaVM) {
        self.vm = vm
    }

    /// The exchange's state, taken from the pool (or made) when its first Lua stage runs.
    func state(of exchange: HTTPExchange) -> LuaExchangeState {
        if let state = exchange.pluginState as? LuaExchangeState { return state }
        let state: LuaExchangeState
        if let kept = idle.popLast() {
            kept.reuse(for: exchange)
            state = kept
        } else {
            state = LuaExchangeState(exchange: exchange, vm: vm, pool: self)
        }
        exchange.pluginState = state
        return state
    }

    fileprivate func recycle(_ state: LuaExchangeState) {
        guard idle.count < Self.maxIdle, !vm.isClosed else { return }
        idle.append(state)
    }
}

@available(*, unavailable)
extension LuaExchangeStatePool: Sendable {}
