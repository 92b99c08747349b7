import CLua
import CLuaShims

/// A Lua thread a phase runs in, and the registry reference that keeps it alive. Used on
/// its VM's event loop only, as the VM is.
struct LuaCoroutine {
    let thread: OpaquePointer
    let ref: Int32
}

/// Coroutines are reused: a phase run per stage per request would otherwise allocate a Lua
/// thread (and its stack) each time and leave the collector to sweep them. Only
/// `limits.maxIdleCoroutines` are kept: after a burst of requests that each held one (all
/// waiting on a slow `httpCall`, say), the rest are let go and collected, so the VM does not
/// keep its peak.
extension LuaVM {
    /// A coroutine to run a phase in.
    func acquireCoroutine() -> LuaCoroutine? {
        if let reusable = idleCoroutines.popLast() { return reusable }
        guard let co = lua_newthread(L) else { return nil }
        return LuaCoroutine(thread: co, ref: ref())
    }

    /// Takes back a coroutine whose function returned. One that failed or still waits is
    /// dropped instead: its stack holds whatever it was doing.
    ///
    /// A function that returned left its coroutine at the base level with no call, upvalue or
    /// to-be-closed variable open, so emptying the stack is all the next function needs.
    /// `lua_resetthread` would do that too, but it also moves the stack into a new minimal
    /// one, which the next phase grows again: two allocations per phase run. An idle
    /// coroutine's stack is shrunk by the collector instead, as every thread's is.
    func releaseCoroutine(_ coroutine: LuaCoroutine, reusable: Bool) {
        guard !isClosed else { return }
        let co = coroutine.thread
        if reusable, idleCoroutines.count < limits.maxIdleCoroutines, lua_status(co) == LUA_OK {
            lua_settop(co, 0)
            idleCoroutines.append(coroutine)
        } else {
            unref(coroutine.ref)
        }
    }
}
