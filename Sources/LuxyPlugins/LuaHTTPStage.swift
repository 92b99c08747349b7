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
    var handlesRequest: Bool { script.handlesRequest }
    var handlesResponse: Bool { script.handlesResponse }

    func applies(to route: RouteMatch) -> Bool {
        let services = resolved.configuration.services
        guard !services.isEmpty else { return true }
        guard let service = route.service else { return false }
        return services.contains(service)
    }

    func runRequest(_ exchange: HTTPExchange) {
        LuaExchangeState.of(exchange, vm: vm).run(self, .request)
    }

    func runResponse(_ exchange: HTTPExchange) {
        LuaExchangeState.of(exchange, vm: vm).run(self, .response)
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
        (exchange.pluginState as? LuaExchangeState)?.stream.finish()
        exchange.pluginState = nil
    }
}

/// The Lua side of one exchange, created when its first Lua stage runs. It hears how each
/// phase ended and hands the stage's verdict to the exchange: one object per request, not a
/// closure per stage and phase.
final class LuaExchangeState: LuaPhaseReceiver {
    let host: ExchangeLuaHost
    let stream: LuaHTTPStream
    /// The stage whose phase runs now, and which phase.
    private var runningStage: LuaHTTPStage?
    private var runningPhase = LuaHTTPPhase.request

    private init(exchange: HTTPExchange, vm: LuaVM) {
        host = ExchangeLuaHost(exchange: exchange)
        stream = LuaHTTPStream(vm: vm, host: host)
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

    static func of(_ exchange: HTTPExchange, vm: LuaVM) -> LuaExchangeState {
        if let state = exchange.pluginState as? LuaExchangeState { return state }
        let state = LuaExchangeState(exchange: exchange, vm: vm)
        exchange.pluginState = state
        return state
    }
}

@available(*, unavailable)
extension LuaExchangeState: Sendable {}
