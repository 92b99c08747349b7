import CLua
import CLuaShims

extension LuaVM {
    /// Every host method lands here from the C trampoline. It returns a result count or a
    /// LUXY_RC_* code; it never raises itself, so no longjmp crosses this frame.
    func dispatch(_ L: OpaquePointer, method raw: Int32, resumed: Bool) -> Int32 {
        let s = LuaStack(L)
        // The three families' ids do not overlap; the handles' methods, the most frequent
        // calls, are tried first.
        guard let method = LuaMethod(rawValue: raw) else {
            if let method = LuxyMethod(rawValue: raw) { return dispatchLuxy(s, method, resumed: resumed) }
            if let function = LuaModuleFunction(rawValue: raw) { return callModuleFunction(function, s) }
            s.push("unknown host function")
            return Int32(LUXY_RC_ERROR)
        }
        return hostCall(s, method.luaName) { () throws(LuaRaise) -> Int32 in
            guard let object = s.object(at: 1),
                  let kind = LuaObjectKind(rawValue: object.kind), kind.answers(method.kind) else {
                throw LuaRaise("calling '\(method.luaName)' on bad self (\(method.kind.typeName) expected, got \(s.typeName(1)))")
            }
            // The stream checks the object's scope itself, in the lookup of its run. The stream
            // outlives the resume it set itself as current for, so it is used unretained.
            if let http = currentHTTPStream {
                return try http._withUnsafeGuaranteedRef { stream in
                    Result { () throws(LuaRaise) in try stream.call(method, s, object, resumed: resumed) }
                }.get()
            }
            guard let stream = currentStream else { throw LuaRaise("object used outside of proper scope") }
            return try stream.call(method, s, object, resumed: resumed)
        }
    }

    /// The stream running now, if `object` was handed out by its current run: nil for an
    /// object a script kept past its request or phase.
    func runningStream(owning object: luxy_object) -> LuaHostStream? {
        guard let stream = currentStream, stream.isRunning(token: object.token) else { return nil }
        return stream
    }

    /// Runs `body` as the one host call in progress; what it raises becomes the script's error.
    /// Handles' methods and the `luxy` table's functions both go through here.
    /// The names are only read for an error message, so they are made only then.
    func hostCall(_ s: LuaStack, _ name: @autoclosure () -> String, _ body: () throws(LuaRaise) -> Int32) -> Int32 {
        guard !inHostCall else {
            // Only a finalizer run by the GC in the middle of a host call gets here.
            s.push("'\(name())' cannot be called while another host call runs")
            return Int32(LUXY_RC_ERROR)
        }
        inHostCall = true
        defer { inHostCall = false }
        do {
            return try body()
        } catch {
            s.push(error.message)
            return Int32(LUXY_RC_ERROR)
        }
    }

    /// The object at index 1 (a method's self), which must be of `kind`.
    func selfObject(_ s: LuaStack, kind: Int32, typeName: @autoclosure () -> String, method: @autoclosure () -> String)
        throws(LuaRaise) -> luxy_object
    {
        guard let object = s.object(at: 1), object.kind == kind else {
            throw LuaRaise("calling '\(method())' on bad self (\(typeName()) expected, got \(s.typeName(1)))")
        }
        return object
    }
}
