import CLua
import CLuaShims

/// One run of a Lua function outside any request: a timer's callback or a queue's consumer.
/// It runs as a phase does, in a coroutine of the VM under the same instruction budget, cut
/// into the same slices (the loop serves its connections between them), and may wait for a
/// `luxy.httpCall`. Objects of requests are out of its scope. Used on its VM's loop only.
final class LuaBackgroundRun: LuaHostStream {
    private enum Wait {
        case none
        case nextSlice
        /// The host is being asked; an answer now is returned without a yield.
        case httpCallStarting
        case httpCall
    }

    private let vm: LuaVM
    private let host: LuaBackgroundHost
    let chunkName: String
    private let coroutine: LuaCoroutine
    private var budget: Int64
    private var wait = Wait.none
    private(set) var pending: Result<LuaHTTPCallResponse, LuaHostError>?
    private var completion: ((LuaScriptError?) -> Void)?
    var returnDuplicateHeaders = false

    /// Nil when the VM cannot make a coroutine.
    init?(vm: LuaVM, host: LuaBackgroundHost, chunkName: String, completion: @escaping (LuaScriptError?) -> Void) {
        guard let coroutine = vm.acquireCoroutine() else { return nil }
        self.vm = vm
        self.host = host
        self.chunkName = chunkName
        self.coroutine = coroutine
        self.budget = Int64(vm.limits.instructionBudget)
        self.completion = completion
    }

    var co: OpaquePointer { coroutine.thread }

    /// Calls the function at registry `functionRef` with the values `pushArguments` pushes.
    func start(functionRef: Int32, pushArguments: (LuaStack) -> Int32 = { _ in 0 }) {
        lua_rawgeti(co, luxy_registry_index(), lua_Integer(functionRef))
        let arguments = pushArguments(LuaStack(co))
        resume(arguments: arguments)
    }

    // Objects of requests never belong to a background run.
    func isRunning(token: UInt64) -> Bool { false }

    func call(_ method: LuaMethod, _ s: LuaStack, _ object: luxy_object, resumed: Bool)
        throws(LuaRaise) -> Int32 {
        throw LuaRaise("object used outside of proper scope")
    }

    /// Whether the running thread is this run's own coroutine, which may wait for the host.
    func canWait(_ s: LuaStack) -> Bool {
        s.L == co && lua_isyieldable(s.L) != 0
    }

    /// `luxy.httpCall` waits: the host's answer resumes the run. Returns the answer when the
    /// host gave it at once, nil when the coroutine has to yield for it.
    func beginHTTPCall(_ start: (@escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) -> Void)
        -> Result<LuaHTTPCallResponse, LuaHostError>? {
        wait = .httpCallStarting
        pending = nil
        start { [weak self] result in self?.deliver(result) }
        if let answered = pending {
            wait = .none
            pending = nil
            return answered
        }
        wait = .httpCall
        return nil
    }

    func takePending() -> Result<LuaHTTPCallResponse, LuaHostError>? {
        defer { pending = nil }
        return pending
    }

    private func deliver(_ result: Result<LuaHTTPCallResponse, LuaHostError>) {
        if case .httpCallStarting = wait {
            pending = result
            return
        }
        guard case .httpCall = wait, completion != nil else { return }
        wait = .none
        pending = result
        guard !vm.isClosed, lua_status(co) == LUA_YIELD else {
            return end(LuaScriptError(message: "\(chunkName): the script can no longer be resumed", chunkName: chunkName))
        }
        resume(arguments: 0)
    }

    private func resume(arguments: Int32) {
        guard !vm.isClosed else { return end(nil) }
        switch vm.resume(co, for: self, budget: &budget, arguments: arguments).status {
        case LUA_OK:
            end(nil)
        case Int32(LUXY_RESUME_SLICE_ENDED):
            wait = .nextSlice
            host.continueLater { [self] in
                guard case .nextSlice = wait else { return }
                wait = .none
                resume(arguments: 0)
            }
        case LUA_YIELD:
            if case .httpCall = wait { return }
            end(LuaVM.unexpectedYield(chunkName))
        default:
            end(vm.scriptError(in: co, chunkName: chunkName))
        }
    }

    private func end(_ error: LuaScriptError?) {
        guard let completion else { return }
        self.completion = nil
        vm.releaseCoroutine(coroutine, reusable: error == nil && wait == .none)
        completion(error)
    }
}

@available(*, unavailable)
extension LuaBackgroundRun: Sendable {}
