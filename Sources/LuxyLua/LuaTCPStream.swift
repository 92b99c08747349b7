import CLua
import CLuaShims

/// One TCP connection as Lua sees it, shared by every stage of its chain. Each phase
/// (`on_connect`, one chunk of `on_downstream_data`, …) runs in a coroutine of its own; the
/// two directions may each have one waiting (in `httpCall`) at the same time.
///
/// The `conn` object is valid for the whole connection, so a script may keep it across its
/// phases; after the connection ends it raises "object used outside of proper scope".
public final class LuaTCPStream {
    let vm: LuaVM
    let host: LuaTCPHost
    /// Carried by every `conn` object of this connection.
    let token: UInt64
    private var finishing = false
    private(set) var finished = false
    /// Runs started and not yet ended (running or waiting).
    private var active: [TCPRun] = []
    /// The run whose coroutine executes right now.
    var current: TCPRun?
    /// How long the last phase that ended ran (its resumes, `LuaPhaseClock`); read in its
    /// completion, for the stage's cost.
    public private(set) var lastPhaseNanoseconds: UInt64 = 0

    public init(vm: LuaVM, host: LuaTCPHost) {
        self.vm = vm
        self.host = host
        self.token = vm.nextToken()
    }

    deinit {
        finishing = true
        finished = true
    }

    /// Runs `event`'s function of `script` (`data` is copied into Lua before this returns).
    /// `completion` is called exactly once: synchronously when the phase never waited.
    public func run(_ script: LuaScript, _ event: LuaTCPEvent, data: UnsafeRawBufferPointer? = nil,
                    endOfStream: Bool = false, completion: @escaping (LuaTCPOutcome) -> Void) {
        func fail(_ message: String) {
            completion(.failed(LuaScriptError(message: message, chunkName: script.chunkName)))
        }
        // A phase that ends before it runs took no time.
        lastPhaseNanoseconds = 0
        guard !finishing else { return fail("\(script.chunkName): the connection has ended") }
        guard !vm.isClosed else { return fail("\(script.chunkName): the Lua VM is closed") }
        guard script.vm === vm else { return fail("\(script.chunkName): the script belongs to another Lua VM") }
        guard let functionRef = script.tcpFunctionRefs[event] else { return completion(.proceed) }
        guard let coroutine = vm.acquireCoroutine() else {
            return fail("\(script.chunkName): cannot create a coroutine")
        }

        let run = TCPRun(event: event, script: script, coroutine: coroutine,
                         budget: Int64(vm.limits.instructionBudget), completion: completion)
        active.append(run)
        let co = run.co
        lua_rawgeti(co, luxy_registry_index(), lua_Integer(functionRef))
        vm.pushObject(co, .tcpConnection, token: token)
        var arguments: Int32 = 1
        if event == .downstreamData || event == .upstreamData {
            if let data, let base = data.baseAddress {
                _ = lua_pushlstring(co, base.assumingMemoryBound(to: CChar.self), data.count)
            } else {
                LuaStack(co).push("")
            }
            LuaStack(co).push(endOfStream)
            arguments = 3
        }
        resume(run, arguments: arguments)
    }

    /// No phase starts after this; the `conn` objects die once the phases still waiting end
    /// (an `on_close` may still finish its `httpCall`).
    public func finish() {
        finishing = true
        if active.isEmpty { finished = true }
    }

    func isRunning(token: UInt64) -> Bool {
        !finished && token == self.token && current != nil
    }

    // MARK: Coroutine driving

    private func resume(_ run: TCPRun, arguments: Int32) {
        // Saved and restored, as the VM's own state is: a completion may arrive inside
        // another stream's host call.
        let savedRun = current
        current = run
        let started = LuaPhaseClock.now()
        let resumed = vm.resume(run.co, for: self, budget: &run.budget, arguments: arguments)
        run.elapsedTicks &+= LuaPhaseClock.now() &- started
        current = savedRun

        switch resumed.status {
        case LUA_OK:
            end(run, outcome(of: run, results: resumed.results))
        case Int32(LUXY_RESUME_SLICE_ENDED):
            // The loop's other connections go first; the budget carries on in run.budget.
            run.wait = .nextSlice
            host.continueLater { [self] in continueSlice(run) }
        case LUA_YIELD:
            lua_settop(run.co, -resumed.results - 1)
            if run.wait != .httpCall { end(run, .failed(LuaVM.unexpectedYield(run.script.chunkName))) }
        default:
            end(run, .failed(vm.scriptError(in: run.co, chunkName: run.script.chunkName)))
        }
    }

    /// The phase function's return value, as the contract in LuaTCPOutcome says.
    private func outcome(of run: TCPRun, results: Int32) -> LuaTCPOutcome {
        if run.closeRequested { return .close }
        let s = LuaStack(run.co)
        let idx = s.top - results + 1
        let type = results > 0 ? s.type(idx) : LUA_TNIL
        switch run.event {
        case .connect:
            return type == LUA_TBOOLEAN && lua_toboolean(run.co, idx) == 0 ? .close : .proceed
        case .close:
            return .proceed
        case .downstreamData, .upstreamData:
            switch type {
            case LUA_TNIL: return .proceed
            case LUA_TBOOLEAN: return lua_toboolean(run.co, idx) == 0 ? .hold : .proceed
            case LUA_TSTRING: return .replace(s.bytes(idx) ?? [])
            default:
                let message = "\(run.script.chunkName): \(run.event.functionName) must return a string, nil or false, "
                    + "not a \(s.typeName(idx))"
                return .failed(LuaScriptError(message: message, chunkName: run.script.chunkName))
            }
        }
    }

    /// The next slice of a phase that gave the loop back. Strong, as a wait for the host is:
    /// the run is resumed and its coroutine released even when the connection is gone.
    private func continueSlice(_ run: TCPRun) {
        guard active.contains(where: { $0 === run }), run.wait == .nextSlice else { return }
        run.wait = .none
        guard !vm.isClosed, lua_status(run.co) == LUA_YIELD else {
            return end(run, .failed(LuaScriptError(message: "\(run.script.chunkName): the script can no longer be resumed",
                                                   chunkName: run.script.chunkName)))
        }
        resume(run, arguments: 0)
    }

    private func end(_ run: TCPRun, _ outcome: LuaTCPOutcome) {
        guard let index = active.firstIndex(where: { $0 === run }) else { return }
        active.remove(at: index)
        // The outcome was read off the coroutine's stack already; a finished one is reused.
        if case .failed = outcome {
            vm.releaseCoroutine(run.coroutine, reusable: false)
        } else {
            vm.releaseCoroutine(run.coroutine, reusable: true)
        }
        if finishing, active.isEmpty { finished = true }
        lastPhaseNanoseconds = LuaPhaseClock.nanoseconds(run.elapsedTicks)
        run.completion(outcome)
    }

    /// Starts a host operation that may complete later: the result when the host completed
    /// synchronously, nil when the coroutine has to yield.
    func begin(_ run: TCPRun, _ start: (_ deliver: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) -> Void)
        -> Result<LuaHTTPCallResponse, LuaHostError>?
    {
        run.wait = .httpCall
        run.pending = nil
        run.insideStart = true
        // Strong: the stream must outlive the wait so the coroutine is resumed and released
        // even when the connection is gone by then.
        start { [self] result in deliver(result, to: run) }
        run.insideStart = false
        guard let pending = run.pending else { return nil }
        run.wait = .none
        run.pending = nil
        return pending
    }

    private func deliver(_ result: Result<LuaHTTPCallResponse, LuaHostError>, to run: TCPRun) {
        guard active.contains(where: { $0 === run }), run.wait == .httpCall, run.pending == nil else { return }
        run.pending = result
        if run.insideStart { return }
        guard !vm.isClosed, lua_status(run.co) == LUA_YIELD else {
            return end(run, .failed(LuaScriptError(message: "\(run.script.chunkName): the script can no longer be resumed",
                                                   chunkName: run.script.chunkName)))
        }
        resume(run, arguments: 0)
    }

    /// On resume after a wait: what the host delivered (nil when a script resumed the
    /// coroutine itself, which then fails).
    func takePending(_ run: TCPRun) -> Result<LuaHTTPCallResponse, LuaHostError>? {
        guard let pending = run.pending else { return nil }
        run.wait = .none
        run.pending = nil
        return pending
    }
}

@available(*, unavailable)
extension LuaTCPStream: Sendable {}

/// One phase run of a tcp stream.
final class TCPRun {
    /// What a run that is not running waits for.
    enum Wait {
        case none, httpCall
        /// Its slice of the instruction budget ran out: the loop's next tick.
        case nextSlice
    }

    let event: LuaTCPEvent
    let script: LuaScript
    let coroutine: LuaCoroutine
    var co: OpaquePointer { coroutine.thread }
    var budget: Int64
    let completion: (LuaTCPOutcome) -> Void
    var wait = Wait.none
    var pending: Result<LuaHTTPCallResponse, LuaHostError>?
    var insideStart = false
    var closeRequested = false
    var returnDuplicateHeaders = false
    /// The time its resumes ran (ticks of `LuaPhaseClock`), the phase's cost.
    var elapsedTicks: UInt64 = 0

    init(event: LuaTCPEvent, script: LuaScript, coroutine: LuaCoroutine, budget: Int64,
         completion: @escaping (LuaTCPOutcome) -> Void) {
        self.event = event
        self.script = script
        self.coroutine = coroutine
        self.budget = budget
        self.completion = completion
    }
}

@available(*, unavailable)
extension TCPRun: Sendable {}
