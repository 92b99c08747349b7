import CLua
import CLuaShims

extension LuaVM {
    /// The VM's generation became the loop's current one: its timers start (and queue
    /// consumers register), running on `host`.
    public func startBackgroundWork(host: LuaBackgroundHost) {
        guard !isClosed else { return }
        luxyState.startBackgroundWork(vm: self, host: host)
    }

    /// Its generation retired: timers stop (a run in progress finishes), consumers let go.
    public func stopBackgroundWork() {
        luxyState.stopBackgroundWork()
    }

    /// `luxy.timer.every(seconds, fn[, {stop_on_error = true}])` and `luxy.timer.after(seconds, fn)`.
    func makeTimer(_ s: LuaStack, _ repetition: LuaTimer.Repetition) throws(LuaRaise) -> Int32 {
        let fname = repetition == .every ? "luxy.timer.every" : "luxy.timer.after"
        guard let chunkName = luxyState.loadingChunkName else {
            throw LuaRaise("\(fname): timers are made by a script's top-level code, not in a phase or callback")
        }
        guard let seconds = try s.optSeconds(1, fname, "the interval") else {
            throw LuaRaise("\(fname): the interval must be a number of seconds")
        }
        if repetition == .every, seconds < 0.001 {
            throw LuaRaise("\(fname): the interval must be at least 0.001 seconds")
        }
        guard s.type(2) == LUA_TFUNCTION else {
            throw LuaRaise("\(fname): the callback must be a function, got \(s.typeName(2))")
        }
        var stopOnError = false
        if s.type(3) == LUA_TTABLE {
            lua_pushnil(s.L)
            while lua_next(s.L, 3) != 0 {
                guard s.type(-2) == LUA_TSTRING, s.string(-2) == "stop_on_error" else {
                    throw LuaRaise("\(fname): unknown option '\(s.string(-2) ?? s.typeName(-2))' (known: stop_on_error)")
                }
                stopOnError = lua_toboolean(s.L, -1) != 0
                s.pop()
            }
        } else if s.type(3) > LUA_TNIL {
            throw LuaRaise("\(fname): options must be a table, got \(s.typeName(3))")
        }
        lua_pushvalue(s.L, 2)
        let timer = LuaTimer(seconds: seconds, repetition: repetition, stopOnError: stopOnError, chunkName: chunkName,
                             functionRef: luaL_ref(s.L, luxy_registry_index()))
        luxyState.timers.append(timer)
        // A script loaded into a VM whose background work already runs (a test file's VM,
        // which takes plugins one after another) has its timers start as it loads.
        if let host = luxyState.backgroundHost { timer.start(vm: self, host: host) }
        pushLuxyObject(s.L, .timer, aux: luxyState.timers.count - 1)
        return 1
    }

    func callTimer(_ method: LuxyMethod, _ s: LuaStack, _ timer: LuaTimer) throws(LuaRaise) -> Int32 {
        guard method == .timerCancel else { throw LuaRaise("'\(method.luaName)' is not a method of a timer") }
        timer.stop()
        return 0
    }

    /// `luxy.httpCall(cluster, headers, body, timeout_ms | options)`: handle:httpCall's
    /// arguments and answer, for timers and queue consumers, where there is no handle. It
    /// waits (yields the callback's coroutine) unless `asynchronous` is set.
    func backgroundHTTPCall(_ s: LuaStack, resumed: Bool) throws(LuaRaise) -> Int32 {
        guard let run = currentStream as? LuaBackgroundRun, let host = luxyState.backgroundHost else {
            throw LuaRaise("luxy.httpCall works in timer and queue callbacks; in a phase, use handle:httpCall")
        }
        if resumed {
            guard let result = run.takePending() else { throw LuaRaise("httpCall() was resumed without a response") }
            return try LuaHTTPCallRequest.pushResponse(result, s, duplicates: run.returnDuplicateHeaders)
        }
        // The handle's parser reads its arguments from index 2 on: a placeholder takes self's place.
        lua_pushnil(s.L)
        lua_rotate(s.L, 1, 1)
        let call = try LuaHTTPCallRequest(s, clusterExists: host.clusterExists)
        if call.asynchronous {
            host.httpCall(cluster: call.cluster, headers: call.headers, body: call.body,
                          timeoutMilliseconds: call.timeoutMilliseconds, asynchronous: true, completion: { _ in })
            return 0
        }
        guard run.canWait(s) else {
            throw LuaRaise("httpCall() cannot wait here: call it from the callback itself, not from a nested coroutine")
        }
        run.returnDuplicateHeaders = call.returnDuplicateHeaders
        let answered = run.beginHTTPCall { done in
            host.httpCall(cluster: call.cluster, headers: call.headers, body: call.body,
                          timeoutMilliseconds: call.timeoutMilliseconds, asynchronous: false, completion: done)
        }
        guard let answered else { return Int32(LUXY_RC_YIELD) }
        return try LuaHTTPCallRequest.pushResponse(answered, s, duplicates: call.returnDuplicateHeaders)
    }

    /// `luxy.log(level, message)`: "trace", "debug", "info", "warn", "err" or "critical",
    /// under the script's name. Where no generation serves (a check), it goes nowhere.
    func luxyLog(_ s: LuaStack) throws(LuaRaise) -> Int32 {
        let level: LuaLogLevel
        switch s.string(1) {
        case "trace": level = .trace
        case "debug": level = .debug
        case "info": level = .info
        case "warn": level = .warn
        case "err", "error": level = .error
        case "critical": level = .critical
        default: throw LuaRaise("luxy.log: the level must be trace, debug, info, warn, err or critical")
        }
        let message = s.string(2) ?? s.typeName(2)
        var debug = lua_Debug()
        let chunk = lua_getstack(s.L, 1, &debug) != 0 && lua_getinfo(s.L, "S", &debug) != 0
            ? withUnsafeBytes(of: debug.short_src) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } : ""
        luxyState.backgroundHost?.log(level, message, chunkName: chunk)
        return 0
    }
}
