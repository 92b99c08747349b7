import CLua
import CLuaShims

public enum LuaPhaseOutcome: Sendable {
    case completed
    /// The script called respond(); the host's `respond` was called already.
    case responded
    case failed(LuaScriptError)
}

/// Told how a phase run ended, exactly once per `LuaHTTPStream.run`.
public protocol LuaPhaseReceiver: AnyObject {
    func phaseEnded(_ outcome: LuaPhaseOutcome)
    /// The phase waits for its first body chunk that is not here yet (Envoy's `bodyChunks()`):
    /// who hears how it ends from now on, since the chain goes on without it.
    func receiverWhileStreaming() -> LuaPhaseReceiver
    /// Then the chain goes on (Envoy continues the headers): the next phase may run while
    /// this one waits for chunks.
    func phaseContinued()
}

extension LuaPhaseReceiver {
    public func receiverWhileStreaming() -> LuaPhaseReceiver { self }
    public func phaseContinued() {}
}

/// One HTTP request as Lua sees it; its request and response phases share it (dynamic
/// metadata lives here). Phases run one at a time, each in a coroutine of its own.
public final class LuaHTTPStream {
    let vm: LuaVM
    let host: LuaHTTPHost
    private(set) var finished = false
    /// The phase running or waiting right now.
    private(set) var active: PhaseRun?
    /// Phases that stream a body (`bodyChunks()`) while the chain went on without them: at
    /// most one per direction, resumed chunk by chunk alongside `active`.
    private var streaming: [PhaseRun] = []
    /// The later phases this request's scripts gave up (`handle:skipPhase`).
    var skippedPhases = SkippedPhases()
    /// A run that ended normally, kept for the stream's next phase: the stages of a request
    /// run one after another, so one object serves them all, and the requests the stream
    /// serves after this one too (it holds nothing of the request once it ended).
    private var spareRun: PhaseRun?
    /// The run `resume` is running now (its identity only). Its caller holds it, so a host
    /// call of that run may use it unretained (`call`). A run a script resumed itself
    /// (`coroutine.resume` on the phase's coroutine, from another of the stream's runs) is
    /// not this one, and is looked up retained.
    private(set) var resumingRun: ObjectIdentifier?
    /// `streamInfo():dynamicMetadata()`, created on first use.
    var dynamicMetadataRef: Int32 = LUA_NOREF
    /// Keys the request's scripts imported (`importPublicKey`).
    let publicKeys = LuaPublicKeyStore()
    /// Time the phase that ended last spent running (its resumes, not its waits), in
    /// nanoseconds of `LuaPhaseClock`: read by the receiver when it hears the phase ended.
    public private(set) var lastPhaseNanoseconds: UInt64 = 0

    public init(vm: LuaVM, host: LuaHTTPHost) {
        self.vm = vm
        self.host = host
    }

    deinit { finish() }

    /// Runs the script's `on_request`/`envoy_on_request` (or the response pair) in a
    /// coroutine. `receiver` hears exactly once how it ended: synchronously when the phase
    /// never waited, else on the loop the host calls back on. A phase the script does not
    /// define ends at once without entering the VM.
    public func run(_ script: LuaScript, phase: LuaHTTPPhase, receiver: LuaPhaseReceiver) {
        func fail(_ message: String) {
            receiver.phaseEnded(.failed(LuaScriptError(message: message, chunkName: script.chunkName)))
        }
        guard !finished else { return fail("\(script.chunkName): the request has ended") }
        guard !vm.isClosed else { return fail("\(script.chunkName): the Lua VM is closed") }
        guard script.vm === vm else { return fail("\(script.chunkName): the script belongs to another Lua VM") }
        guard active == nil else { return fail("\(script.chunkName): another phase of this request is running") }
        let functionRef = script.functionRef(phase)
        guard functionRef != LUA_NOREF else { return receiver.phaseEnded(.completed) }

        guard let coroutine = vm.acquireCoroutine() else {
            return fail("\(script.chunkName): cannot create a coroutine")
        }
        let token = vm.nextToken()
        let budget = Int64(vm.limits.instructionBudget)
        let run: PhaseRun
        if let spare = spareRun.take() {
            spare.reset(token: token, phase: phase, script: script, coroutine: coroutine, budget: budget,
                        receiver: receiver)
            run = spare
        } else {
            run = PhaseRun(token: token, phase: phase, script: script, coroutine: coroutine, budget: budget,
                           receiver: receiver)
        }
        active = run
        lua_rawgeti(run.co, luxy_registry_index(), lua_Integer(functionRef))
        luxy_push_handle(run.co, run.token)
        resume(run, arguments: 1)
    }

    /// After the request ends: every object it handed out raises "object used outside of
    /// proper scope", and its Lua references are released. A phase still waiting fails.
    public func finish() {
        guard !finished else { return }
        finished = true
        vm.unref(dynamicMetadataRef)
        dynamicMetadataRef = LUA_NOREF
        publicKeys.removeAll()
        abandonWaitingPhases()
    }

    /// Fails every phase still waiting (the request ended under it), so the log phase can run;
    /// nothing when none waits.
    public func abandonWaitingPhases() {
        // The usual case, every request's end: nothing waits, and no list of runs is made.
        guard active != nil || !streaming.isEmpty else { return }
        for run in streaming + (active.map { [$0] } ?? []) {
            end(run, .failed(LuaScriptError(message: "\(run.script.chunkName): the request ended while the script was waiting",
                                            chunkName: run.script.chunkName)))
        }
    }

    /// Makes a finished stream serve the next request (one object per VM and request in
    /// flight, not one per request). Objects handed out before stay out of scope: every run
    /// gets a new token.
    public func reopen() {
        precondition(finished && active == nil, "only a finished stream is reopened")
        finished = false
        skippedPhases.removeAll()
    }

    /// Whether `script` gave up its `phase` for this request (`handle:skipPhase`): the chain
    /// then goes on without running it.
    public func skips(_ script: LuaScript, _ phase: LuaHTTPPhase) -> Bool {
        skippedPhases.contains(script, phase)
    }

    func isRunning(token: UInt64) -> Bool {
        !finished && run(for: token) != nil
    }

    /// The run whose objects carry `token`: the active one, or one streaming a body.
    func run(for token: UInt64) -> PhaseRun? {
        if let active, active.token == token { return active }
        return streaming.first { $0.token == token }
    }

    // MARK: Coroutine driving

    private func resume(_ run: PhaseRun, arguments: Int32) {
        let started = LuaPhaseClock.now()
        let outerRun = resumingRun
        resumingRun = ObjectIdentifier(run)
        let resumed = vm.resume(run.co, for: self, budget: &run.budget, arguments: arguments)
        resumingRun = outerRun
        run.elapsedTicks &+= LuaPhaseClock.now() &- started
        switch resumed.status {
        case LUA_OK:
            end(run, .completed)
        case Int32(LUXY_RESUME_SLICE_ENDED):
            // The loop's other connections go first; the budget carries on in run.budget.
            run.wait = .nextSlice
            let token = run.token
            host.continueLater { [weak self] in self?.continueSlice(token: token) }
        case LUA_YIELD:
            lua_settop(run.co, -resumed.results - 1)
            if run.responded {
                end(run, .responded)
            } else if run.wait == .none {
                end(run, .failed(LuaVM.unexpectedYield(run.script.chunkName)))
            } else if run.wait == .bodyChunk, active === run {
                park(run)
            }
        default:
            end(run, .failed(vm.scriptError(in: run.co, chunkName: run.script.chunkName)))
        }
    }

    /// The next slice of a phase that gave the loop back; nothing if the run ended meanwhile
    /// (the request went away).
    private func continueSlice(token: UInt64) {
        guard let run = run(for: token), run.wait == .nextSlice else { return }
        run.wait = .none
        guard !vm.isClosed, lua_status(run.co) == LUA_YIELD else {
            return end(run, .failed(LuaScriptError(message: "\(run.script.chunkName): the script can no longer be resumed",
                                                   chunkName: run.script.chunkName)))
        }
        resume(run, arguments: 0)
    }


    /// The run waits for a body chunk not here yet: the chain goes on without it (Envoy
    /// continues the headers), and chunks resume it when they come.
    private func park(_ run: PhaseRun) {
        active = nil
        streaming.append(run)
        let receiver = run.receiver
        run.hand(to: receiver?.receiverWhileStreaming())
        receiver?.phaseContinued()
    }

    private func end(_ run: PhaseRun, _ outcome: LuaPhaseOutcome) {
        // Moved out of `active` or `streaming`, the one reference the stream held: it goes
        // to `spareRun` below without a retain and a release.
        let ended: PhaseRun
        if active === run, let taken = active.take() {
            ended = taken
        } else if let index = streaming.firstIndex(where: { $0 === run }) {
            ended = streaming.remove(at: index)
        } else {
            return
        }
        // Whatever the script did not take of the body flows on past it.
        switch run.bodyAccess {
        case .streaming, .streamed: host.stopBodyChunks(run.phase)
        case .untouched, .buffered, .passedForTrailers: break
        }
        lastPhaseNanoseconds = LuaPhaseClock.nanoseconds(run.elapsedTicks)
        vm.unref(run.requestHeadersRef)
        let receiver = run.ended()
        switch outcome {
        case .completed:
            vm.releaseCoroutine(run.coroutine, reusable: true)
            spareRun = consume ended
        case .responded:
            vm.releaseCoroutine(run.coroutine, reusable: false)
            spareRun = consume ended
        case .failed:
            // Host calls of a failed run may still be on the stack: it is not reused.
            vm.releaseCoroutine(run.coroutine, reusable: false)
        }
        receiver?.phaseEnded(outcome)
    }

    /// Starts a host operation that may complete later. Returns the result when the host
    /// completed synchronously, nil when the coroutine has to yield.
    func begin(_ run: PhaseRun, _ wait: PhaseRun.Wait, _ start: (_ token: UInt64) -> Void) -> PhaseRun.Pending? {
        run.wait = wait
        run.pending = nil
        run.insideStart = true
        start(run.token)
        run.insideStart = false
        guard let pending = run.pending else { return nil }
        run.wait = .none
        run.pending = nil
        return pending
    }

    /// The host's completion for a `begin`: resumes the coroutine unless it completed inline.
    func deliver(_ pending: PhaseRun.Pending, token: UInt64) {
        guard let run = run(for: token), run.wait.isHostOperation, run.pending == nil else { return }
        run.pending = pending
        if run.insideStart { return }
        guard !vm.isClosed, lua_status(run.co) == LUA_YIELD else {
            return end(run, .failed(LuaScriptError(message: "\(run.script.chunkName): the script can no longer be resumed",
                                                   chunkName: run.script.chunkName)))
        }
        resume(run, arguments: 0)
    }

    /// On resume after a wait: the result the host delivered.
    func takePending(_ run: PhaseRun) -> PhaseRun.Pending? {
        // Resumed with nothing delivered means a script resumed this coroutine itself; the
        // wait stays, so the host's completion still ends the run (as failed, see deliver).
        guard let pending = run.pending else { return nil }
        run.wait = .none
        run.pending = nil
        return pending
    }

    /// Whether the running thread may wait for the host: only the phase's own coroutine can.
    func canWait(_ s: LuaStack, _ run: PhaseRun) -> Bool {
        s.L == run.co && lua_isyieldable(s.L) != 0
    }
}

@available(*, unavailable)
extension LuaHTTPStream: Sendable {}

extension LuaHTTPStream {
    /// `run` with a closure for the outcome, for callers that are not receivers themselves.
    public func run(_ script: LuaScript, phase: LuaHTTPPhase, completion: @escaping (LuaPhaseOutcome) -> Void) {
        run(script, phase: phase, receiver: ClosurePhaseReceiver(completion))
    }
}

private final class ClosurePhaseReceiver: LuaPhaseReceiver {
    private let completion: (LuaPhaseOutcome) -> Void

    init(_ completion: @escaping (LuaPhaseOutcome) -> Void) {
        self.completion = completion
    }

    func phaseEnded(_ outcome: LuaPhaseOutcome) {
        completion(outcome)
    }
}

/// The state of one phase run of a stream.
final class PhaseRun {
    /// What a run that is not running waits for.
    enum Wait {
        case none, body, bodyChunk, httpCall
        /// Its slice of the instruction budget ran out: the loop's next tick.
        case nextSlice

        var isHostOperation: Bool { self == .body || self == .bodyChunk || self == .httpCall }
    }
    enum Pending {
        case body(Result<[UInt8]?, LuaHostError>)
        case bodyChunk(Result<Bool, LuaHostError>)
        case httpCall(Result<LuaHTTPCallResponse, LuaHostError>)
    }

    private(set) var token: UInt64
    private(set) var phase: LuaHTTPPhase
    private(set) var script: LuaScript
    private(set) var coroutine: LuaCoroutine
    var co: OpaquePointer { coroutine.thread }
    var budget: Int64
    /// Time spent in its resumes so far, in ticks of `LuaPhaseClock`.
    var elapsedTicks: UInt64 = 0
    /// Strong while the run lasts, so it can report even if nothing else holds the receiver;
    /// dropped when it ended.
    private(set) var receiver: LuaPhaseReceiver?

    var wait = Wait.none
    var pending: Pending?
    var insideStart = false
    var responded = false
    var returnDuplicateHeaders = false

    var headers: LuaHeaderMap?
    var trailers: LuaHeaderMap?
    /// The registry reference of the map `requestHeaders()` made, or LUA_NOREF.
    var requestHeadersRef: Int32 = LUA_NOREF
    var headersIteration = LuaHeaderIteration.idle
    var trailersIteration = LuaHeaderIteration.idle
    var bodyLoaded = false
    var body: [UInt8]?
    var bodyAccess = BodyAccess.untouched
    /// Numbers the chunks handed to the script: a chunk object is alive only while its
    /// number is the one held.
    var chunkSerial: Int32 = 0

    /// How the script took the body, which decides Envoy's ordering errors.
    enum BodyAccess {
        case untouched
        /// `body()` buffered it.
        case buffered
        /// `bodyChunks()` iterates; `chunk` is the number of the chunk in its step, 0 between steps.
        case streaming(chunk: Int32)
        /// `bodyChunks()` reached the end; `lastChunk` is the chunk that came with the end,
        /// still the script's (Envoy hands it over with the end), or 0.
        case streamed(lastChunk: Int32)
        /// `trailers()` waited for the end without the script taking the body.
        case passedForTrailers
    }

    /// Envoy's `headers_continued_`: once the body streams, the head went on.
    var headersContinued: Bool {
        switch bodyAccess {
        case .streaming, .streamed: return true
        case .untouched, .buffered, .passedForTrailers: return false
        }
    }

    /// The phase streams: who hears how it ends changes (see `LuaPhaseReceiver`).
    func hand(to receiver: LuaPhaseReceiver?) {
        self.receiver = receiver
    }

    init(token: UInt64, phase: LuaHTTPPhase, script: LuaScript, coroutine: LuaCoroutine, budget: Int64,
         receiver: LuaPhaseReceiver)
    {
        self.token = token
        self.phase = phase
        self.script = script
        self.coroutine = coroutine
        self.budget = budget
        self.receiver = receiver
    }

    /// The run ended: it lets go of what it held of the request (a spare run must keep none of
    /// it alive) and hands back its receiver, to be told how.
    func ended() -> LuaPhaseReceiver? {
        clearRequestState()
        return receiver.take()
    }

    /// What a run holds of its request, let go when it ends and started afresh by the next.
    private func clearRequestState() {
        wait = .none
        pending = nil
        insideStart = false
        responded = false
        returnDuplicateHeaders = false
        headers = nil
        trailers = nil
        requestHeadersRef = LUA_NOREF
        headersIteration = .idle
        trailersIteration = .idle
        bodyLoaded = false
        body = nil
        bodyAccess = .untouched
    }

    /// Makes a run that ended normally the next phase's: every per-run field starts afresh,
    /// and the new token puts the objects handed out before out of scope.
    func reset(token: UInt64, phase: LuaHTTPPhase, script: LuaScript, coroutine: LuaCoroutine, budget: Int64,
               receiver: LuaPhaseReceiver) {
        self.token = token
        self.phase = phase
        self.script = script
        self.coroutine = coroutine
        self.budget = budget
        self.receiver = receiver
        elapsedTicks = 0
        // Its request state went when it ended: only an ended run is kept for reuse.
    }
}

@available(*, unavailable)
extension PhaseRun: Sendable {}
