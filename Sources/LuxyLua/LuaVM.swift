import CLua
import CLuaShims
import LuxyConfig

/// Registered once per process: the C trampoline calls Swift only through this pointer.
private let hostDispatchRegistration: Void = {
    luxy_set_host_dispatch { L, method, resumed in
        guard let L else { return Int32(LUXY_RC_ERROR_RAW) }
        guard let owner = luxy_vm_owner(L) else {
            LuaStack(L).push("host functions are not available")
            return Int32(LUXY_RC_ERROR)
        }
        // Borrowed, not retained: every resume is made by an object that holds its VM for
        // the whole call (a stream's or a background run's `vm`), so the VM outlives this
        // host call. A retain here is one per host call, and a slow one once anything holds
        // the VM weakly (a timer does).
        return Unmanaged<LuaVM>.fromOpaque(owner)._withUnsafeGuaranteedRef {
            $0.dispatch(L, method: method, resumed: resumed != 0)
        }
    }
}()

/// One Lua state (Envoy's per-worker state): one per event loop, shared by every script of
/// a generation. Not thread-safe: everything runs on the loop that owns it.
public final class LuaVM {
    let limits: LuaLimits
    private var cvm: OpaquePointer?
    /// The main thread. Valid until `close()`.
    let L: OpaquePointer
    /// `{__index = sandbox globals}`, shared by every script environment.
    private(set) var globalsMetaRef: Int32 = LUA_NOREF
    /// Registry refs of the per-kind metatables, indexed by LuaObjectKind.rawValue.
    var metatableRefs: [Int32] = []
    /// The bodyChunks() iterator function, made once.
    var chunkIteratorRef: Int32 = LUA_NOREF
    /// What a header map's `pairs()` iterator calls at its end (`LuaMethod.headerIterationEnded`).
    var headerIterationEndedRef: Int32 = LUA_NOREF
    /// The stream whose coroutine is running right now; host calls act on it alone.
    /// Unowned: it is set only for the length of a `resume` the stream itself makes (and put
    /// back after), so the stream outlives it; a strong reference cost a retain and a release
    /// on every host call and resume.
    unowned(unsafe) var currentStream: LuaHostStream?
    /// The same stream when it is an HTTP request's, the kind whose host calls are most
    /// frequent: their dispatch reaches it without a retain and a release
    /// (`Unmanaged._withUnsafeGuaranteedRef`), which a use of `currentStream` costs.
    var currentHTTPStream: Unmanaged<LuaHTTPStream>?
    var inHostCall = false
    private var lastToken: UInt64 = 0
    /// What the `luxy` table's functions work on in this VM (`Luxy/`).
    let luxyState: LuxyVMState

    /// `libraries` are what `require` finds besides the built-in modules (LuaVM+Modules).
    /// `platform` is the process's shared state (dictionaries, queues, metrics); without one
    /// the VM gets a private one (a scratch VM that only checks scripts).
    public init(limits: LuaLimits, libraries: [LuaLibrary] = [], platform: LuaPlatform? = nil) throws(LuaScriptError) {
        _ = hostDispatchRegistration
        // The phase clock's rate is measured once per process, with the first VM, not in a
        // request (`LuaPhaseClock.rate`).
        _ = LuaPhaseClock.rate
        self.limits = limits
        self.luxyState = LuxyVMState(platform: platform ?? LuaPlatform())
        guard let cvm = luxy_vm_new(max(0, limits.memoryBytes), nil), let L = luxy_vm_state(cvm) else {
            throw LuaScriptError(message: "cannot create a Lua state: out of memory", chunkName: "")
        }
        self.cvm = cvm
        self.L = L
        luxy_vm_set_owner(cvm, Unmanaged.passUnretained(self).toOpaque())
        luxy_vm_set_slice(cvm, Int64(max(0, limits.instructionSlice)))
        luxy_vm_set_max_chunk_bytes(cvm, max(0, limits.maxScriptBytes))
        if luxy_open_sandbox(L) != LUA_OK {
            let message = LuaStack(L).string(-1) ?? "cannot open the Lua libraries"
            close()
            throw LuaScriptError(message: message, chunkName: "")
        }
        globalsMetaRef = makeGlobalsMetatable()
        registerObjectMetatables()
        do {
            try installModules(libraries: libraries)
        } catch {
            close()
            throw error
        }
        makeLuxyTable()
    }

    deinit { close() }

    /// Idempotent. Scripts and streams of this VM fail from now on.
    public func close() {
        guard let cvm else { return }
        self.cvm = nil
        currentStream = nil
        currentHTTPStream = nil
        luxyState.vmClosed()
        luxy_vm_close(cvm)
    }

    /// Closes the VM now or, when Lua code runs in it (a host call of a phase or a timer is on
    /// the stack, and closing would free the state under it), through `later` once that code
    /// has unwound: a loop's next tick, say. A host call can end what owns the VM: the last
    /// request of a retired generation, when a failed write aborts its exchange.
    public func close(orLater later: @escaping (_ close: @escaping () -> Void) -> Void) {
        guard isRunning else { return close() }
        later { [self] in close(orLater: later) }
    }

    var isClosed: Bool { cvm == nil }

    /// Whether Lua code runs in this VM now: a phase, a timer or a host call of theirs is on
    /// the stack.
    var isRunning: Bool { currentStream != nil }

    /// Bytes allocated by Lua right now.
    public var memoryInUse: Int {
        guard let cvm else { return 0 }
        return Int(luxy_vm_memory_in_use(cvm))
    }

    /// Finished coroutines ready for the next phase run (`LuaVM+Coroutines`), at most
    /// `limits.maxIdleCoroutines`.
    var idleCoroutines: [LuaCoroutine] = []

    /// A full collection cycle, for tests that check memory comes back.
    func collectGarbage() {
        guard !isClosed else { return }
        luxy_full_gc(L)
    }

    /// A token names one phase run; objects made during the run carry it.
    func nextToken() -> UInt64 {
        lastToken &+= 1
        return lastToken
    }

    var budget: Int64 {
        get { cvm.map { luxy_vm_budget($0) } ?? 0 }
        set { if let cvm { luxy_vm_set_budget(cvm, newValue) } }
    }

    // MARK: Registry

    func unref(_ ref: Int32) {
        guard !isClosed, ref != LUA_NOREF, ref != LUA_REFNIL else { return }
        luaL_unref(L, luxy_registry_index(), ref)
    }

    /// Pops the top of `L` into the registry.
    func ref() -> Int32 {
        luaL_ref(L, luxy_registry_index())
    }

    private func makeGlobalsMetatable() -> Int32 {
        let s = LuaStack(L)
        lua_createtable(L, 0, 2)
        luxy_pushglobaltable(L)
        lua_setfield(L, -2, "__index")
        // Scripts reach this table through getmetatable(_G); keep it out of their hands.
        s.push(false)
        lua_setfield(L, -2, "__metatable")
        return ref()
    }

    /// Method tables are built once per VM, never per request.
    private func registerObjectMetatables() {
        metatableRefs = LuaObjectKind.allCases.map { kind in
            // A handle is a light userdata (`luxy_push_handle`), and all light userdata share
            // one metatable, cjson.null's included: no `__name`, so `tostring(cjson.null)`
            // stays what Lua prints for a light userdata.
            kind == .handle
                ? makeObjectMetatable(typeName: nil, methods: LuaMethod.handleMethods)
                : makeObjectMetatable(typeName: kind.typeName,
                                      methods: LuaMethod.allCases.filter { $0.kind == kind && !$0.isHostInternal })
        }
        luxy_set_handle_metatable(L, metatableRefs[Int(LuaObjectKind.handle.rawValue)])
        luxy_push_host_method(L, LuaMethod.chunkNext.rawValue)
        chunkIteratorRef = ref()
        luxy_push_host_method(L, LuaMethod.headerIterationEnded.rawValue)
        headerIterationEndedRef = ref()
    }

    /// The metatable of one kind of object, as a registry ref: `methods` in its `__index`
    /// (metamethods in itself), its `__name` (if given), and closed to `getmetatable`.
    func makeObjectMetatable(typeName: String?, methods: [some LuaHostFunction]) -> Int32 {
        let s = LuaStack(L)
        lua_createtable(L, 0, 4)
        let meta = lua_gettop(L)
        lua_createtable(L, 0, Int32(methods.count))
        for method in methods {
            luxy_push_host_method(L, method.rawValue)
            lua_setfield(L, method.isMetamethod ? meta : meta + 1, method.luaName)
        }
        lua_setfield(L, meta, "__index")
        s.push(false)
        lua_setfield(L, meta, "__metatable")
        if let typeName {
            s.push(typeName)
            lua_setfield(L, meta, "__name")
        }
        return ref()
    }

    /// Pushes a new object of `kind` for the run named by `token` (a handle is no object of
    /// this kind: `luxy_push_handle`).
    func pushObject(_ L: OpaquePointer, _ kind: LuaObjectKind, token: UInt64, aux: Int32 = 0) {
        luxy_push_object(L, metatableRefs[Int(kind.rawValue)], token, kind.rawValue, aux)
    }
}

@available(*, unavailable)
extension LuaVM: Sendable {}
