import CLua
import CLuaShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension LuaHTTPStream {
    /// Runs one host method for the active phase. Throws what the script should see as a
    /// Lua error; returns the number of results pushed or a LUXY_RC_* code.
    func call(_ method: LuaMethod, _ s: LuaStack, _ object: luxy_object, resumed: Bool)
        throws(LuaRaise) -> Int32
    {
        guard !finished else { throw LuaRaise("object used outside of proper scope") }
        // The active run, unretained when it is the one `resume` runs: the caller of
        // `resume(run)` holds it, so it outlives the call even if the call ends it (a retain
        // and a release per call otherwise).
        if let active = active.map(Unmanaged.passUnretained),
           active._withUnsafeGuaranteedRef({ ObjectIdentifier($0) == resumingRun && $0.token == object.token }) {
            // `_withUnsafeGuaranteedRef` rethrows untyped errors: the call's comes out as a value.
            return try active._withUnsafeGuaranteedRef { run in
                Result { () throws(LuaRaise) in try perform(method, s, run, object, resumed: resumed) }
            }.get()
        }
        guard let run = run(for: object.token) else {
            throw LuaRaise("object used outside of proper scope")
        }
        return try perform(method, s, run, object, resumed: resumed)
    }

    /// Runs one host method for `run`, the phase `object` belongs to.
    private func perform(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun,
                         _ object: luxy_object, resumed: Bool) throws(LuaRaise) -> Int32 {
        switch method.kind {
        case .handle: return try callHandle(method, s, run, resumed: resumed)
        case .headerMap:
            if object.aux == Self.requestHeadersAux { return try callRequestHeaderMap(method, s, run) }
            return try callHeaderMap(method, s, run, trailers: object.aux != 0)
        case .buffer:
            if object.aux != 0 { return try callChunk(method, s, run, chunk: object.aux) }
            return try callBuffer(method, s, run)
        case .chunkIterator: return try nextBodyChunk(s, run, resumed: resumed)
        case .metadata: return try callMetadata(method, s)
        case .streamInfo, .dynamicMetadata, .connection: return try callStreamInfo(method, s, run)
        case .ssl: return try callSSL(method, s)
        case .publicKey: return try callPublicKey(method, s, run, object)
        case .tcpConnection: throw LuaRaise("'\(method.luaName)' is only for tcp connections")
        }
    }

    /// Pushes the phase's request header map (`requestHeaders()`), made on first use and
    /// handed out again on every later call, as Envoy's handle keeps its wrappers: a script
    /// that calls it for each field it reads allocates one object, not one per call. Kept in
    /// the registry until the run ends (the handle, a light userdata, holds nothing).
    private func pushRequestHeaders(_ s: LuaStack, _ run: PhaseRun) -> Int32 {
        if run.requestHeadersRef != LUA_NOREF {
            lua_rawgeti(s.L, luxy_registry_index(), lua_Integer(run.requestHeadersRef))
            return 1
        }
        vm.pushObject(s.L, .headerMap, token: run.token, aux: LuaHTTPStream.requestHeadersAux)
        lua_pushvalue(s.L, -1)
        run.requestHeadersRef = luaL_ref(s.L, luxy_registry_index())
        return 1
    }

    private func callHandle(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun, resumed: Bool) throws(LuaRaise) -> Int32 {
        switch method {
        case .headers, .streamInfo:
            // The handle answers for both (`LuaMethod.handleMethods`): no object to make.
            lua_pushvalue(s.L, 1)
            return 1
        case .trailers:
            return try trailers(s, run, resumed: resumed)
        case .body where run.phase == .log, .bodyChunks where run.phase == .log:
            throw LuaRaise("\(method.luaName)() is not available in the log phase: the response was sent")
        case .accessLog:
            let destination = try s.checkString(2, method.luaName)
            // A log format (`luxy.log_format`) is rendered straight into the log, without the
            // Lua string `format:render(h)` would make and this call would copy back: the line
            // is handed over where it lies (the format's buffer, or the Lua string).
            let host = self.host
            func write(_ line: UnsafeRawBufferPointer) throws(LuaRaise) {
                do throws(LuaHostError) { try host.writeAccessLog(line, to: destination) } catch {
                    throw LuaRaise(error.message)
                }
            }
            if let format = vm.logFormat(s, at: 3) {
                try format.render(host, write)
            } else if try s.withBytes(3, write) == nil {
                throw s.argError(3, method.luaName, "string or log format")
            }
            return 0
        case .requestHeaders:
            return pushRequestHeaders(s, run)
        case .body:
            // Envoy's optional always_wrap_body; on resume the arguments are still in place.
            return try body(s, run, resumed: resumed, alwaysWrap: lua_toboolean(s.L, 2) != 0)
        case .bodyChunks:
            guard case .untouched = run.bodyAccess else {
                throw LuaRaise("cannot call bodyChunks after body processing has begun")
            }
            run.bodyAccess = .streaming(chunk: 0)
            lua_rawgeti(s.L, luxy_registry_index(), lua_Integer(vm.chunkIteratorRef))
            vm.pushObject(s.L, .chunkIterator, token: run.token)
            return 2
        case .metadata:
            vm.pushObject(s.L, .metadata, token: run.token)
            return 1
        case .connection:
            vm.pushObject(s.L, .connection, token: run.token)
            return 1
        case .httpCall:
            return try httpCall(s, run, resumed: resumed)
        case .respond:
            return try respond(s, run)
        case .logTrace: return try log(.trace, s, method)
        case .logDebug: return try log(.debug, s, method)
        case .logInfo: return try log(.info, s, method)
        case .logWarn: return try log(.warn, s, method)
        case .logErr: return try log(.error, s, method)
        case .logCritical: return try log(.critical, s, method)
        case .base64Escape:
            let bytes = try s.checkBytes(2, method.luaName)
            s.push(Base64.encode(bytes))
            return 1
        case .timestamp:
            guard try timestampResolution(s, method) == .millisecond else {
                throw LuaRaise("timestamp format must be MILLISECOND.")
            }
            s.push(Self.nowMicroseconds() / 1000)
            return 1
        case .timestampString:
            let now = Self.nowMicroseconds()
            switch try timestampResolution(s, method) {
            case .millisecond: s.push(String(now / 1000))
            case .microsecond: s.push(String(now))
            case .unknown: throw LuaRaise("timestamp format must be MILLISECOND or MICROSECOND.")
            }
            return 1
        case .config:
            lua_rawgeti(s.L, luxy_registry_index(), lua_Integer(run.script.configRef))
            return 1
        case .route: s.push(host.routeName); return 1
        case .service: s.push(host.destinationService); return 1
        case .cluster: s.push(host.clusterName); return 1
        case .upstream: s.push(host.upstreamTarget); return 1
        case .direction: s.push(host.direction); return 1
        case .isHTTP2: s.push(host.protocolName == "HTTP/2"); return 1
        case .clearRouteCache:
            host.clearRouteCache()
            return 0
        case .filterContext:
            // Envoy's per-route `filter_context`; an empty table where the route sets none.
            s.push(config: host.filterContext ?? .map([]))
            return 1
        case .httpProtocol: s.push(host.protocolName); return 1
        case .skipPhase:
            let name = try s.checkString(2, method.luaName)
            guard let phase = LuaHTTPPhase(skipping: name, after: run.phase) else {
                throw LuaRaise("skipPhase(): '\(name)' is not a phase after this one (\"response\" or \"log\")")
            }
            skippedPhases.insert(run.script, phase)
            return 0
        case .importPublicKey: return try importPublicKey(s, run)
        case .verifySignature: return try verifySignature(s, run)
        default:
            throw LuaRaise("'\(method.luaName)' is not a handle method")
        }
    }

    /// Envoy's `EnvoyTimestampResolution` argument: none or 0 is milliseconds, 1 microseconds.
    private enum TimestampResolution { case millisecond, microsecond, unknown }

    private func timestampResolution(_ s: LuaStack, _ method: LuaMethod) throws(LuaRaise) -> TimestampResolution {
        guard s.type(2) != LUA_TNONE, s.type(2) != LUA_TNIL else { return .millisecond }
        switch try s.checkString(2, method.luaName) {
        case "0": return .millisecond
        case "1": return .microsecond
        default: return .unknown
        }
    }

    private func log(_ level: LuaLogLevel, _ s: LuaStack, _ method: LuaMethod) throws(LuaRaise) -> Int32 {
        // Named as called (`logInfo`), as Lua's own argument error in Envoy names it.
        let message = try s.checkString(2, method.luaName)
        host.log(level, message)
        return 0
    }

    static func nowMicroseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec) * 1_000_000 + Int(ts.tv_nsec) / 1000
    }
}
