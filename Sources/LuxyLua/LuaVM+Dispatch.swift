import CLua
import CLuaShims

extension LuaVM {
    /// Every host method lands here from the C trampoline. It returns a result count or a
    /// LUXY_RC_* code; it never raises itself, so no longjmp crosses this frame.
    func dispatch(_ L: OpaquePointer, method raw: Int32, resumed: Bool) -> Int32 {
        let s = LuaStack(L)
        if let function = LuaModuleFunction(rawValue: raw) {
            return callModuleFunction(function, s)
        }
        if let method = LuxyMethod(rawValue: raw) { return dispatchLuxy(s, method, resumed: resumed) }
        guard let method = LuaMethod(rawValue: raw) else {
            s.push("unknown host function")
            return Int32(LUXY_RC_ERROR)
        }
        guard !inHostCall else {
            // Only a finalizer run by the GC in the middle of a host call gets here.
            s.push("'\(method.luaName)' cannot be called while another host call runs")
            return Int32(LUXY_RC_ERROR)
        }
        guard let object = luxy_to_object(L, 1), object.pointee.kind == method.kind.rawValue else {
            s.push("calling '\(method.luaName)' on bad self (\(method.kind.typeName) expected, got \(s.typeName(1)))")
            return Int32(LUXY_RC_ERROR)
        }
        guard let stream = currentStream, stream.isRunning(token: object.pointee.token) else {
            s.push("object used outside of proper scope")
            return Int32(LUXY_RC_ERROR)
        }
        inHostCall = true
        defer { inHostCall = false }
        do {
            return try stream.call(method, s, object, resumed: resumed)
        } catch {
            s.push(error.message)
            return Int32(LUXY_RC_ERROR)
        }
    }
}
