import LuxyCore
import LuxyLua

/// The Lua side of one exchange, taken when its first Lua stage runs. It hears how each
/// phase ended and hands the stage's verdict to the exchange: one object per request, not a
/// closure per stage and phase; and once the request is over it goes back to its pool for
/// the next one on the same VM.
final class LuaExchangeState: LuaPhaseReceiver {
    let host: ExchangeLuaHost
    let stream: LuaHTTPStream
    /// Strong, read without the weak reference's side table on every recycle: the pool's
    /// `close()` (its VM goes) lets go of the states it keeps.
    private let pool: LuaExchangeStatePool
    /// The stage whose phase runs now, and which phase. Unretained, as `host.currentStage` is
    /// (the request's route selection holds its stages for as long as it runs), and used
    /// through `_withUnsafeGuaranteedRef`: a strong copy of it, even a local one, cost a
    /// retain and a release per phase.
    private var runningStage: Unmanaged<LuaHTTPStage>?
    private var runningPhase = LuaHTTPPhase.request

    init(exchange: HTTPExchange, vm: LuaVM, pool: LuaExchangeStatePool) {
        host = ExchangeLuaHost(exchange: exchange)
        stream = LuaHTTPStream(vm: vm, host: host)
        host.accessLog = pool.accessLog
        self.pool = pool
    }

    /// The request is over: scripts' objects go out of scope, a waiting phase fails, the
    /// exchange is let go, and the state is kept for the next request.
    func finish() {
        stream.finish()
        runningStage = nil
        host.unbind()
        pool.recycle(self)
    }

    /// The exchange's Lua state, if its first Lua stage ran: told by its exact type (the
    /// class is final), not by a dynamic cast, which every phase paid for.
    static func of(_ exchange: HTTPExchange) -> LuaExchangeState? {
        guard let state = exchange.pluginState, type(of: state) == LuaExchangeState.self else { return nil }
        return unsafeDowncast(state, to: LuaExchangeState.self)
    }

    func reuse(for exchange: HTTPExchange) {
        host.bind(to: exchange)
        stream.reopen()
    }

    func run(_ stage: LuaHTTPStage, _ phase: LuaHTTPPhase) {
        runningStage = Unmanaged.passUnretained(stage)
        runningPhase = phase
        host.enter(stage)
        stream.run(stage.script, phase: phase, receiver: self)
    }

    /// The log phase, at the request's end. A phase still waiting (the client left while a
    /// script waited for the body or a call) is given up first, without a verdict: the
    /// exchange is over.
    func runLog(_ stage: LuaHTTPStage) {
        runningStage = nil
        stream.abandonWaitingPhases()
        run(stage, .log)
    }

    func phaseEnded(_ outcome: LuaPhaseOutcome) {
        guard let stage = runningStage else { return }
        runningStage = nil
        let phase = runningPhase, nanoseconds = stream.lastPhaseNanoseconds
        let verdict = stage._withUnsafeGuaranteedRef { $0.verdict(for: outcome, phase: phase, nanoseconds: nanoseconds) }
        // Unretained (a retain and a release per phase otherwise): the exchange's driver holds
        // it, and holds itself for the length of `resume`, where the host may let it go.
        Unmanaged.passUnretained(host.exchange)._withUnsafeGuaranteedRef { $0.resume(verdict) }
    }

    func receiverWhileStreaming() -> LuaPhaseReceiver {
        guard let stage = runningStage else { return self }
        return StreamingPhaseReceiver(stage: stage.takeUnretainedValue(), phase: runningPhase, exchange: host.exchange,
                                      stream: stream)
    }

    /// Envoy continues the headers when a script starts iterating `bodyChunks()`: the
    /// chain goes on as if the stage had finished, and its real verdict comes later.
    func phaseContinued() {
        guard runningStage != nil else { return }
        runningStage = nil
        host.exchange.resume(.proceed)
    }
}

/// Hears how a phase that streams a body ends, after the chain went on without it: made
/// only for such phases.
final class StreamingPhaseReceiver: LuaPhaseReceiver {
    private let stage: LuaHTTPStage
    private let phase: LuaHTTPPhase
    private let exchange: HTTPExchange
    private let stream: LuaHTTPStream

    init(stage: LuaHTTPStage, phase: LuaHTTPPhase, exchange: HTTPExchange, stream: LuaHTTPStream) {
        self.stage = stage
        self.phase = phase
        self.exchange = exchange
        self.stream = stream
    }

    func phaseEnded(_ outcome: LuaPhaseOutcome) {
        exchange.streamingStageFinished(stage.verdict(for: outcome, phase: phase, nanoseconds: stream.lastPhaseNanoseconds),
                                        side: phase.side)
    }
}

@available(*, unavailable)
extension StreamingPhaseReceiver: Sendable {}

@available(*, unavailable)
extension LuaExchangeState: Sendable {}
