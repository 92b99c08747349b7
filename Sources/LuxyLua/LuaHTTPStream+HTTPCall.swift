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
        let fname = "httpCall"
        let cluster = try s.checkString(2, fname)
        let headers = try lowercased(s.headerList(3, fname))
        let body = try s.optBytes(4, fname) ?? []
        var timeout = 0
        var asynchronous = false
        var duplicates = false
        if s.type(5) == LUA_TTABLE {
            try readOptions(s, 5, timeout: &timeout, asynchronous: &asynchronous, duplicates: &duplicates)
        } else {
            timeout = try s.checkInteger(5, fname)
            if s.type(6) == LUA_TTABLE {
                try readOptions(s, 6, timeout: &timeout, asynchronous: &asynchronous, duplicates: &duplicates)
            } else {
                asynchronous = lua_toboolean(s.L, 6) != 0
            }
        }
        guard timeout >= 0 else { throw LuaRaise("http call timeout must be >= 0") }

        if asynchronous {
            host.httpCall(cluster: cluster, headers: headers, body: body, timeoutMilliseconds: timeout,
                          asynchronous: true, completion: { _ in })
            return 0
        }
        guard canWait(s, run) else {
            throw LuaRaise("httpCall() cannot wait here: call it from the phase function, not from a nested coroutine or callback")
        }
        run.returnDuplicateHeaders = duplicates
        let pending = begin(run, .httpCall) { token in
            host.httpCall(cluster: cluster, headers: headers, body: body, timeoutMilliseconds: timeout,
                          asynchronous: false) { [self] result in self.deliver(.httpCall(result), token: token) }
        }
        guard let pending else { return Int32(LUXY_RC_YIELD) }
        return try pushResponse(pending, s, run)
    }

    private func readOptions(_ s: LuaStack, _ idx: Int32, timeout: inout Int, asynchronous: inout Bool,
                             duplicates: inout Bool) throws(LuaRaise)
    {
        lua_pushnil(s.L)
        while lua_next(s.L, idx) != 0 {
            guard s.type(-2) == LUA_TSTRING, let key = s.string(-2) else {
                throw LuaRaise("httpCall() options keys must be strings")
            }
            switch key {
            case "asynchronous": asynchronous = lua_toboolean(s.L, -1) != 0
            case "return_duplicate_headers": duplicates = lua_toboolean(s.L, -1) != 0
            case "timeout_ms":
                guard let t = s.integer(-1) else { throw LuaRaise("'timeout_ms' option must be an integer") }
                timeout = t
            case "trace_sampled", "send_xff": break
            default: throw LuaRaise("\"\(key)\" is not valid key for httpCall() options")
            }
            s.pop()
        }
    }

    private func pushResponse(_ pending: PhaseRun.Pending?, _ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        guard case .httpCall(let result)? = pending else { throw LuaRaise("httpCall() was resumed without a response") }
        let response: LuaHTTPCallResponse
        switch result {
        case .success(let r): response = r
        case .failure(let error): throw LuaRaise(error.message)
        }
        lua_createtable(s.L, 0, Int32(clamping: response.headers.count))
        let table = s.top
        for (name, value) in response.headers {
            s.push(name)
            if run.returnDuplicateHeaders, lua_rawget(s.L, table) != LUA_TNIL {
                // A repeated header becomes an array of its values.
                if s.type(-1) == LUA_TSTRING {
                    lua_createtable(s.L, 2, 0)
                    lua_rotate(s.L, -2, 1)
                    lua_rawseti(s.L, -2, 1)
                    s.push(name)
                    lua_pushvalue(s.L, -2)
                    lua_rawset(s.L, table)
                }
                s.push(value)
                lua_rawseti(s.L, -2, lua_Integer(lua_rawlen(s.L, -2)) + 1)
                s.pop()
                continue
            }
            if run.returnDuplicateHeaders { s.pop(); s.push(name) }
            s.push(value)
            lua_rawset(s.L, table)
        }
        if response.body.isEmpty { s.pushNil() } else { s.push(bytes: response.body) }
        return 2
    }

    /// `respond(headers, body)`: a local reply; the phase ends here and is never resumed.
    func respond(_ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        guard run.phase == .request else { throw LuaRaise("respond() is only valid in the request phase") }
        let headers = try lowercased(s.headerList(2, "respond"))
        let body = try s.optBytes(3, "respond") ?? []
        guard let status = headers.first(where: { $0.0 == ":status" })?.1 else {
            throw LuaRaise("respond() requires a ':status' header")
        }
        guard let code = Int(status), (200...599).contains(code) else {
            throw LuaRaise("respond(): ':status' must be an integer between 200 and 599, got '\(status)'")
        }
        guard canWait(s, run) else {
            throw LuaRaise("respond() must be called from the phase function, not from a nested coroutine or callback")
        }
        host.respond(headers: headers, body: body)
        run.responded = true
        return Int32(LUXY_RC_YIELD_FOREVER)
    }

    private func lowercased(_ headers: [(String, String)]) -> [(String, String)] {
        headers.map { name, value in
            name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
                ? (name.lowercased(), value) : (name, value)
        }
    }
}
