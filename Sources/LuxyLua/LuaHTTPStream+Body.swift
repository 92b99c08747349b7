import CLua
import CLuaShims

extension LuaHTTPStream {
    /// `handle:body([always_wrap])`: waits for the whole body; a buffer object, or nil when
    /// the message has none (an empty buffer instead when `always_wrap` is true, as in Envoy,
    /// so a script can give a bodiless message a body).
    func body(_ s: LuaStack, _ run: PhaseRun, resumed: Bool, alwaysWrap: Bool = false) throws(LuaRaise) -> Int32 {
        if resumed {
            return try pushBody(takePending(run), s, run, alwaysWrap: alwaysWrap)
        }
        if run.bodyLoaded { return pushLoadedBody(s, run, alwaysWrap: alwaysWrap) }
        guard canWait(s, run) else {
            throw LuaRaise("body() cannot wait here: call it from the phase function, not from a nested coroutine or callback")
        }
        let pending = begin(run, .body) { token in
            host.body(run.phase) { [self] result in self.deliver(.body(result), token: token) }
        }
        guard let pending else { return Int32(LUXY_RC_YIELD) }
        return try pushBody(pending, s, run, alwaysWrap: alwaysWrap)
    }

    /// The bodyChunks() iterator: the buffered body as one chunk, then the end.
    func nextBodyChunk(_ s: LuaStack, _ run: PhaseRun, _ iterator: UnsafeMutablePointer<luxy_object>, resumed: Bool)
        throws(LuaRaise) -> Int32
    {
        if !resumed && iterator.pointee.aux != 0 { return 0 }
        iterator.pointee.aux = 1
        let count = try body(s, run, resumed: resumed)
        // No body at all ends the loop at once: nil is what a for-in stops on.
        return count
    }

    private func pushBody(_ pending: PhaseRun.Pending?, _ s: LuaStack, _ run: PhaseRun, alwaysWrap: Bool)
        throws(LuaRaise) -> Int32
    {
        guard case .body(let result)? = pending else { throw LuaRaise("body() was resumed without a body") }
        switch result {
        case .success(let bytes):
            run.body = bytes
            run.bodyLoaded = true
            return pushLoadedBody(s, run, alwaysWrap: alwaysWrap)
        case .failure(let error):
            throw LuaRaise(error.message)
        }
    }

    private func pushLoadedBody(_ s: LuaStack, _ run: PhaseRun, alwaysWrap: Bool) -> Int32 {
        if run.body == nil && !alwaysWrap {
            s.pushNil()
        } else {
            vm.pushObject(s.L, .buffer, token: run.token)
        }
        return 1
    }

    func callBuffer(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        let bytes = run.body ?? []
        switch method {
        case .bufferLength:
            s.push(bytes.count)
            return 1
        case .bufferGetBytes:
            // Envoy's (0-based start, length), and its error for a range outside the body.
            let start = try s.checkInteger(2, method.luaName)
            let length = try s.checkInteger(3, method.luaName)
            guard start >= 0, length >= 0, start <= bytes.count, length <= bytes.count - start else {
                throw LuaRaise("index/length must be >= 0 and (index + length) must be <= buffer size")
            }
            let lower = start
            let upper = start + length
            bytes.withUnsafeBufferPointer { buf in
                let base = buf.baseAddress.map { UnsafeRawPointer($0 + lower).assumingMemoryBound(to: CChar.self) }
                _ = lua_pushlstring(s.L, base, upper - lower)
            }
            return 1
        case .bufferSetBytes:
            let newBody = try s.checkBytes(2, method.luaName)
            host.setBody(run.phase, newBody)
            run.body = newBody
            s.push(newBody.count)
            return 1
        default:
            throw LuaRaise("'\(method.luaName)' is not a buffer method")
        }
    }
}
