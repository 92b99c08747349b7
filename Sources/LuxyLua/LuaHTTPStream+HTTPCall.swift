import CLua
import CLuaShims

extension LuaHTTPStream {
    /// `httpCall(cluster, headers, body, timeout_ms[, asynchronous])` or
    /// `httpCall(cluster, headers, body, options)`; yields until the response is there and
    /// returns (headers, body) as Envoy does: ":status" is a string, body nil when empty.
    func httpCall(_ s: LuaStack, _ run: PhaseRun, resumed: Bool) throws(LuaRaise) -> Int32 {
        if resumed {
            return try pushResponse(takePending(run), s, run)
        }
        let call = try LuaHTTPCallRequest(s, clusterExists: host.clusterExists)
        if call.asynchronous {
            host.httpCall(cluster: call.cluster, headers: call.headers, body: call.body,
                          timeoutMilliseconds: call.timeoutMilliseconds, asynchronous: true, completion: { _ in })
            return 0
        }
        guard canWait(s, run) else {
            throw LuaRaise("httpCall() cannot wait here: call it from the phase function, not from a nested coroutine or callback")
        }
        run.returnDuplicateHeaders = call.returnDuplicateHeaders
        let pending = begin(run, .httpCall) { token in
            host.httpCall(cluster: call.cluster, headers: call.headers, body: call.body,
                          timeoutMilliseconds: call.timeoutMilliseconds,
                          asynchronous: false) { [self] result in self.deliver(.httpCall(result), token: token) }
        }
        guard let pending else { return Int32(LUXY_RC_YIELD) }
        return try pushResponse(pending, s, run)
    }

    private func pushResponse(_ pending: PhaseRun.Pending?, _ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        guard case .httpCall(let result)? = pending else { throw LuaRaise("httpCall() was resumed without a response") }
        return try LuaHTTPCallRequest.pushResponse(result, s, duplicates: run.returnDuplicateHeaders)
    }

    /// `respond(headers, body)`: a local reply; the phase ends here and is never resumed.
    func respond(_ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        // Envoy's messages, so a script probing with pcall reads the same text.
        guard run.phase == .request else { throw LuaRaise("respond not currently supported in the response path") }
        guard !run.headersContinued else { throw LuaRaise("respond() cannot be called if headers have been continued") }
        let headers = try lowercased(s.headerList(2, "respond"))
        let body = try s.optBytes(3, "respond") ?? []
        guard let status = headers.first(where: { $0.0 == ":status" })?.1, let code = Int(status),
              (200...599).contains(code) else {
            throw LuaRaise(":status must be between 200-599")
        }
        for (name, value) in headers { try Self.checkHeaderField(name, value, "respond") }
        guard canWait(s, run) else {
            throw LuaRaise("respond() must be called from the phase function, not from a nested coroutine or callback")
        }
        host.respond(headers: headers, body: body)
        run.responded = true
        return Int32(LUXY_RC_YIELD_FOREVER)
    }

    private func lowercased(_ headers: [(String, String)]) -> [(String, String)] {
        LuaHTTPCallRequest.lowercased(headers)
    }
}
