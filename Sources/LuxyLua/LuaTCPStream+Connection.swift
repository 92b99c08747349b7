import CLua
import CLuaShims

extension LuaTCPStream: LuaHostStream {
    /// The `conn` methods, for the run executing now.
    func call(_ method: LuaMethod, _ s: LuaStack, _ object: luxy_object, resumed: Bool)
        throws(LuaRaise) -> Int32
    {
        guard isRunning(token: object.token), let run = current, method.kind == .tcpConnection else {
            throw LuaRaise("object used outside of proper scope")
        }
        switch method {
        case .tcpSourceAddress: s.push(host.sourceAddress)
        case .tcpDestinationAddress: s.push(host.destinationAddress)
        case .tcpUpstreamAddress: s.push(host.upstreamAddress)
        case .tcpPeerIdentity: s.push(host.peerIdentity)
        case .tcpDirection: s.push(host.direction)
        case .tcpCluster: s.push(host.clusterName)
        case .tcpConfig:
            lua_rawgeti(s.L, luxy_registry_index(), lua_Integer(run.script.configRef))
        case .tcpClose:
            // Takes effect when the phase returns: the connection closes instead of going on.
            run.closeRequested = true
            return 0
        case .tcpHTTPCall:
            return try httpCall(s, run, resumed: resumed)
        case .tcpLogTrace: return try log(.trace, s, run)
        case .tcpLogDebug: return try log(.debug, s, run)
        case .tcpLogInfo: return try log(.info, s, run)
        case .tcpLogWarn: return try log(.warn, s, run)
        case .tcpLogErr: return try log(.error, s, run)
        case .tcpLogCritical: return try log(.critical, s, run)
        default:
            throw LuaRaise("'\(method.luaName)' is not a connection method")
        }
        return 1
    }

    private func log(_ level: LuaLogLevel, _ s: LuaStack, _ run: TCPRun) throws(LuaRaise) -> Int32 {
        let message = try s.checkString(2, "log")
        host.log(level, message, script: run.script.chunkName)
        return 0
    }

    /// Same arguments and answers as the HTTP handle's `httpCall`; waiting pauses only the
    /// direction (or phase) this run belongs to.
    private func httpCall(_ s: LuaStack, _ run: TCPRun, resumed: Bool) throws(LuaRaise) -> Int32 {
        if resumed {
            guard let result = takePending(run) else { throw LuaRaise("httpCall() was resumed without a response") }
            return try LuaHTTPCallRequest.pushResponse(result, s, duplicates: run.returnDuplicateHeaders)
        }
        let call = try LuaHTTPCallRequest(s, clusterExists: { _ in true })
        if call.asynchronous {
            host.httpCall(cluster: call.cluster, headers: call.headers, body: call.body,
                          timeoutMilliseconds: call.timeoutMilliseconds, asynchronous: true, completion: { _ in })
            return 0
        }
        guard s.L == run.co, lua_isyieldable(s.L) != 0 else {
            throw LuaRaise("httpCall() cannot wait here: call it from the phase function, not from a nested coroutine or callback")
        }
        run.returnDuplicateHeaders = call.returnDuplicateHeaders
        let pending = begin(run) { deliver in
            host.httpCall(cluster: call.cluster, headers: call.headers, body: call.body,
                          timeoutMilliseconds: call.timeoutMilliseconds, asynchronous: false, completion: deliver)
        }
        guard let pending else { return Int32(LUXY_RC_YIELD) }
        return try LuaHTTPCallRequest.pushResponse(pending, s, duplicates: run.returnDuplicateHeaders)
    }
}
