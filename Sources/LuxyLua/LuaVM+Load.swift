import CLua
import CLuaShims
import LuxyConfig

extension LuaVM {
    /// Compiles `source` (text only) as "@chunkName" in an environment of its own whose
    /// missing globals fall back to the sandbox, sets the global `config`, and runs the
    /// top-level code under the instruction budget.
    public func loadScript(name: String, chunkName: String, source: String, config: ConfigValue)
        throws(LuaScriptError) -> LuaScript
    {
        guard !isClosed else { throw LuaScriptError(message: "the Lua VM is closed", chunkName: chunkName) }
        let s = LuaStack(L)
        let base = s.top
        defer { s.setTop(base) }

        try compile(chunkName: chunkName, source: source)
        let chunk = s.top
        luxy_push_environment(L, globalsMetaRef)
        let env = s.top
        pushConfig(config)
        lua_pushvalue(L, -1)
        lua_setfield(L, env, "config")
        let configRef = ref()
        lua_pushvalue(L, env)
        // The chunk's only upvalue is _ENV.
        _ = lua_setupvalue(L, chunk, 1)

        lua_pushvalue(L, chunk)
        budget = Int64(limits.instructionBudget)
        let status = luxy_pcall(L, 0, 0)
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

    /// Compiles only, in a throwaway VM: `luxy check` and reload validation.
    public static func check(chunkName: String, source: String) -> LuaScriptError? {
        do {
            let vm = try LuaVM(limits: LuaLimits())
            defer { vm.close() }
            try vm.compile(chunkName: chunkName, source: source)
            return nil
        } catch {
            return error
        }
    }

    /// Pushes the compiled chunk.
    func compile(chunkName: String, source: String) throws(LuaScriptError) {
        var source = source
        let status: Int32 = source.withUTF8 { buf in
            let base = buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            return luxy_loadbuffer(L, base, buf.count, "@" + chunkName, "t")
        }
        if status != LUA_OK {
            throw scriptError(chunkName: chunkName, tracebackInRegistry: false)
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
