import LuxyCore
import LuxyLua

/// The Lua states of one VM's requests: at most as many as requests in flight were made,
/// and a few kept for reuse. It goes with the VM (its generation on its loop).
final class LuaExchangeStatePool {
    private let vm: LuaVM
    private var idle: [LuaExchangeState] = []
    private var closed = false
    private static let maxIdle = 32
    /// The loop's access-log batches, handed to every request's host.
    let accessLog: LoopAccessLog?

    init(vm: LuaVM, accessLog: LoopAccessLog? = nil) {
        self.vm = vm
        self.accessLog = accessLog
    }

    /// The exchange's state, taken from the pool (or made) when its first Lua stage runs.
    func state(of exchange: HTTPExchange) -> LuaExchangeState {
        if let state = LuaExchangeState.of(exchange) { return state }
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

    func recycle(_ state: LuaExchangeState) {
        guard !closed, idle.count < Self.maxIdle else { return }
        idle.append(state)
    }

    /// The VM goes: the kept states go (each holds its pool, so the pool held them in a
    /// cycle until now), and a request finishing after this drops its own.
    func close() {
        closed = true
        idle.removeAll()
    }
}

@available(*, unavailable)
extension LuaExchangeStatePool: Sendable {}
