import CLuaShims

/// What the VM's dispatch hands a host call to: the stream (HTTP request or TCP connection)
/// whose coroutine is running.
protocol LuaHostStream: AnyObject {
    /// Whether objects made with `token` may be used now.
    func isRunning(token: UInt64) -> Bool
    /// Runs one host method; throws what the script should see as a Lua error, returns a
    /// result count or a LUXY_RC_* code. An object whose run is over (`isRunning` false)
    /// raises "object used outside of proper scope".
    func call(_ method: LuaMethod, _ s: LuaStack, _ object: luxy_object, resumed: Bool)
        throws(LuaRaise) -> Int32
}

extension LuaHTTPStream: LuaHostStream {}
