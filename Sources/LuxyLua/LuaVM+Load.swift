import CLua
import CLuaShims
import LuxyConfig

extension LuaVM {
    /// Compiles `source` (text only) as "@chunkName" in an environment of its own whose
    /// missing globals fall back to the sandbox, sets the global `config`, and runs the
    /// top-level code under the instruction budget. A source over `limits.maxScriptBytes`
    /// is refused before it is compiled.
    public func loadScript(name: String, chunkName: String, source: String, config: ConfigValue)
        throws(LuaScriptError) -> LuaScript
    {
        guard !isClosed else { throw LuaScriptError(message: "the Lua VM is closed", chunkName: chunkName) }
        let s = LuaStack(L)
        let base = s.top
        defer { s.setTop(base) }

        // Swift builds the config table with the cap lifted (so no allocation can fail with
        // a longjmp through it); its size is bounded by the YAML it came from.
        pushConfig(config)
        try compile(chunkName: chunkName, source: source)
        let chunk = s.top - 1
        let env = s.top
        lua_getfield(L, env, "config")
        let configRef = ref()

        lua_pushvalue(L, chunk)
        budget = Int64(limits.instructionBudget)
        luxyState.loadingChunkName = chunkName
        let status = luxy_pcall(L, 0, 0)
        luxyState.loadingChunkName = nil
        if status != LUA_OK {
            let error = scriptError(chunkName: chunkName, tracebackInRegistry: true)
            unref(configRef)
            throw error
        }

        let request = functionRef(env: env, names: "on_request", "envoy_on_request")
        let response = functionRef(env: env, names: "on_response", "envoy_on_response")
        var tcp: [LuaTCPEvent: Int32] = [:]
        for event in LuaTCPEvent.allCases {
            let ref = functionRef(env: env, names: event.functionName)
            if ref != LUA_NOREF { tcp[event] = ref }
        }
        lua_pushvalue(L, env)
        let envRef = ref()
        return LuaScript(name: name, chunkName: chunkName, vm: self, environmentRef: envRef, configRef: configRef,
                         requestFunctionRef: request, responseFunctionRef: response, tcpFunctionRefs: tcp)
    }

    /// Compiles only, in a throwaway VM with `limits`: `luxy check` and reload validation.
    public static func check(chunkName: String, source: String, limits: LuaLimits = LuaLimits()) -> LuaScriptError? {
        do {
            let vm = try LuaVM(limits: limits)
            defer { vm.close() }
            let s = LuaStack(vm.L)
            s.pushNil()
            try vm.compile(chunkName: chunkName, source: source)
            return nil
        } catch {
            return error
        }
    }

    /// Replaces the config value on top of the stack with the compiled chunk and its fresh
    /// environment (whose `config` is that value). All of it runs protected with the memory
    /// cap on (luxy_load_script): a script too large for the VM is an error, not an abort.
    func compile(chunkName: String, source: String) throws(LuaScriptError) {
        var source = source
        let size = source.utf8.count
        guard size <= limits.maxScriptBytes else {
            LuaStack(L).pop()
            throw LuaScriptError(
                message: "\(chunkName): the script is \(size) bytes, over the limit of \(limits.maxScriptBytes) "
                    + "(limits.lua_max_script_bytes)",
                chunkName: chunkName)
        }
        let status: Int32 = source.withUTF8 { buf in
            let base = buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            return luxy_load_script(L, base, buf.count, "@" + chunkName, globalsMetaRef)
        }
        if status != LUA_OK {
            var error = scriptError(chunkName: chunkName, tracebackInRegistry: false)
            if status == LUA_ERRMEM || error.message == "not enough memory" {
                error.message = "\(chunkName): not enough memory to load the script "
                    + "(limits.lua_memory_bytes is \(limits.memoryBytes), \(memoryInUse) in use)"
            }
            throw error
        }
    }

    /// Pops the error value on top of `L` into a LuaScriptError.
    func scriptError(chunkName: String, tracebackInRegistry: Bool) -> LuaScriptError {
        let s = LuaStack(L)
        let message = Self.errorMessage(s, -1)
        s.pop()
        var traceback: String?
        if tracebackInRegistry {
            luxy_push_last_traceback(L)
            traceback = s.string(-1)
            s.pop()
        }
        return LuaScriptError(message: message, chunkName: chunkName, traceback: traceback)
    }

    static func errorMessage(_ s: LuaStack, _ idx: Int32) -> String {
        let t = s.type(idx)
        if t == LUA_TSTRING || t == LUA_TNUMBER, let m = s.string(idx) { return m }
        return "(error object is a \(s.typeName(idx)) value)"
    }

    private func functionRef(env: Int32, names: String...) -> Int32 {
        for name in names {
            LuaStack(L).push(name)
            if lua_rawget(L, env) == LUA_TFUNCTION { return ref() }
            LuaStack(L).pop()
        }
        return LUA_NOREF
    }
}
