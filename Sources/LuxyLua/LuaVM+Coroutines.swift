import CLua
import CLuaShims

/// Coroutines are reused: a phase run per stage per request would otherwise allocate a Lua
/// thread (and its stack) each time and leave the collector to sweep them.
extension LuaVM {
    /// A coroutine to run a phase in, and its registry reference (which keeps it alive).
    func acquireCoroutine() -> (co: OpaquePointer, ref: Int32)? {
        if let reusable = idleCoroutines.popLast() { return reusable }
        guard let co = lua_newthread(L) else { return nil }
        return (co, ref())
    }

    /// Takes back a coroutine whose function returned. One that failed or still waits is
    /// dropped instead: its stack holds whatever it was doing.
    func releaseCoroutine(_ co: OpaquePointer, ref: Int32, reusable: Bool) {
        guard !isClosed else { return }
        if reusable, idleCoroutines.count < Self.maxIdleCoroutines, lua_status(co) == LUA_OK, lua_resetthread(co) == LUA_OK {
            idleCoroutines.append((co, ref))
        } else {
            unref(ref)
        }
    }

    static let maxIdleCoroutines = 256
}
