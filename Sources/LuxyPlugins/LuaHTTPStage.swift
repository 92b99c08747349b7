import Logging
import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore

/// One Lua script in an HTTP chain, on one loop. All stages of a request share one
/// `LuaHTTPStream` (kept in `exchange.pluginState`), so dynamic metadata set by one stage is
/// seen by the next, as in Envoy.
final class LuaHTTPStage: LuaStage, HTTPStage {
    var handlesRequest: Bool { script.handlesRequest }
    var handlesResponse: Bool { script.handlesResponse }

    func applies(to route: RouteMatch) -> Bool {
        let services = resolved.configuration.services
        guard !services.isEmpty else { return true }
        guard let service = route.service else { return false }
        return services.contains(service)
    }

    func runRequest(_ exchange: HTTPExchange, completion: @escaping (StageVerdict) -> Void) {
        run(.request, exchange, completion)
    }

    func runResponse(_ exchange: HTTPExchange, completion: @escaping (StageVerdict) -> Void) {
        run(.response, exchange, completion)
    }

    private func run(_ phase: LuaHTTPPhase, _ exchange: HTTPExchange, _ completion: @escaping (StageVerdict) -> Void) {
        let state = LuaExchangeState.of(exchange, vm: vm)
        state.host.currentLogger = logger
        // The stage outlives every request it runs for (its generation does), so the
        // closure borrows it instead of copying what it needs per phase.
        state.stream.run(script, phase: phase) { [unowned self] outcome in
            switch outcome {
            case .completed:
                completion(.proceed)
            case .responded:
                completion(phase == .request ? .responded : .proceed)
            case .failed(let error):
                let failOpen = resolved.configuration.failOpen
                logger.error("plugin failed", metadata: [
                    "error": "\(error.message)", "phase": "\(phase)", "fail_open": "\(failOpen)",
                ])
                completion(failOpen ? .proceed : .failed(error.message))
            }
        }
    }

    static func finish(_ exchange: HTTPExchange) {
        (exchange.pluginState as? LuaExchangeState)?.stream.finish()
        exchange.pluginState = nil
    }
}

/// The Lua side of one exchange, created when its first Lua stage runs.
final class LuaExchangeState {
    let host: ExchangeLuaHost
    let stream: LuaHTTPStream

    private init(exchange: HTTPExchange, vm: LuaVM) {
        host = ExchangeLuaHost(exchange: exchange)
        stream = LuaHTTPStream(vm: vm, host: host)
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
