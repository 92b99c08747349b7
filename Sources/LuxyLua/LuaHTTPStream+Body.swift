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
        // Envoy's ordering errors: a body the script streams (or let pass for trailers) is
        // not here to be given whole.
        switch run.bodyAccess {
        case .streaming: throw LuaRaise("cannot call body() after body streaming has started")
        case .streamed, .passedForTrailers: throw LuaRaise("cannot call body() after body has been streamed")
        case .untouched, .buffered: break
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

    /// The bodyChunks() iterator, one step: the chunk of the last step goes on its way, and
    /// the next one is handed over as it arrives (nil at the end). The first wait lets the
    /// chain go on without this phase (see `park`), as Envoy continues the headers.
    func nextBodyChunk(_ s: LuaStack, _ run: PhaseRun, resumed: Bool)
        throws(LuaRaise) -> Int32
    {
        if resumed {
            guard case .bodyChunk(let result)? = takePending(run) else {
                throw LuaRaise("bodyChunks() was resumed without a chunk")
            }
            return try pushChunk(result, s, run, previous: run.chunkSerial)
        }
        guard case .streaming = run.bodyAccess else { s.pushNil(); return 1 }
        guard canWait(s, run) else {
            throw LuaRaise("bodyChunks() cannot wait here: iterate it in the phase function, not in a nested coroutine or callback")
        }
        // The chunk of the last step is gone from here on (unless the end came with it).
        let previous: Int32
        if case .streaming(let chunk) = run.bodyAccess { previous = chunk } else { previous = 0 }
        run.bodyAccess = .streaming(chunk: 0)
        let pending = begin(run, .bodyChunk) { token in
            host.nextBodyChunk(run.phase) { [self] result in self.deliver(.bodyChunk(result), token: token) }
        }
        guard case .bodyChunk(let result)? = pending else { return Int32(LUXY_RC_YIELD) }
        return try pushChunk(result, s, run, previous: previous)
    }

    private func pushChunk(_ result: Result<Bool, LuaHostError>, _ s: LuaStack, _ run: PhaseRun, previous: Int32)
        throws(LuaRaise) -> Int32
    {
        switch result {
        case .success(true):
            run.chunkSerial = run.chunkSerial == Int32.max ? 1 : run.chunkSerial + 1
            run.bodyAccess = .streaming(chunk: run.chunkSerial)
            vm.pushObject(s.L, .buffer, token: run.token, aux: run.chunkSerial)
        case .success(false):
            run.bodyAccess = .streamed(lastChunk: previous != 0 && host.holdsBodyChunk(run.phase) ? previous : 0)
            s.pushNil()
        case .failure(let error):
            throw LuaRaise(error.message)
        }
        return 1
    }

    /// A chunk's methods, valid only during its own iteration step.
    func callChunk(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun, chunk: Int32) throws(LuaRaise) -> Int32 {
        let held: Int32
        switch run.bodyAccess {
        case .streaming(let current), .streamed(let current): held = current
        case .untouched, .buffered, .passedForTrailers: held = 0
        }
        guard held == chunk else { throw LuaRaise("object used outside of proper scope") }
        switch method {
        case .bufferLength:
            s.push(host.bodyChunkLength(run.phase))
            return 1
        case .bufferGetBytes:
            return try pushRange(of: host.bodyChunkBytes(run.phase), s, method)
        case .bufferSetBytes:
            let bytes = try s.checkBytes(2, method.luaName)
            host.setBodyChunk(run.phase, bytes)
            s.push(bytes.count)
            return 1
        default:
            throw LuaRaise("'\(method.luaName)' is not a buffer method")
        }
    }

    private func pushBody(_ pending: PhaseRun.Pending?, _ s: LuaStack, _ run: PhaseRun, alwaysWrap: Bool)
        throws(LuaRaise) -> Int32
    {
        guard case .body(let result)? = pending else { throw LuaRaise("body() was resumed without a body") }
        switch result {
        case .success(let bytes):
            run.body = bytes
            run.bodyLoaded = true
            run.bodyAccess = .buffered
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
            return try pushRange(of: bytes, s, method)
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

    /// `getBytes(start, length)`: Envoy's 0-based start, and its error for a range outside.
    private func pushRange(of bytes: [UInt8], _ s: LuaStack, _ method: LuaMethod) throws(LuaRaise) -> Int32 {
        let start = try s.checkInteger(2, method.luaName)
        let length = try s.checkInteger(3, method.luaName)
        guard start >= 0, length >= 0, start <= bytes.count, length <= bytes.count - start else {
            throw LuaRaise("index/length must be >= 0 and (index + length) must be <= buffer size")
        }
        bytes.withUnsafeBufferPointer { buf in
            let base = buf.baseAddress.map { UnsafeRawPointer($0 + start).assumingMemoryBound(to: CChar.self) }
            _ = lua_pushlstring(s.L, base, length)
        }
        return 1
    }
}
