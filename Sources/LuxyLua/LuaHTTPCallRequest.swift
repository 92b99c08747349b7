import CLua
import CLuaShims

/// The arguments of `httpCall` (HTTP handle and tcp `conn` alike) and how its answer goes
/// back to Lua, so both kinds of stream share Envoy's exact calling convention.
struct LuaHTTPCallRequest {
    var cluster = ""
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var timeoutMilliseconds = 0
    var asynchronous = false
    var returnDuplicateHeaders = false

    /// `httpCall(cluster, headers, body, timeout_ms[, asynchronous])` or
    /// `httpCall(cluster, headers, body, options)`, self at index 1.
    /// Checked in Envoy's order and with its messages, so a script probing with `pcall` sees
    /// what it would see there. `clusterExists` answers for the host.
    init(_ s: LuaStack, clusterExists: (String) -> Bool) throws(LuaRaise) {
        let fname = "httpCall"
        if s.type(5) == LUA_TTABLE {
            try readOptions(s, 5)
        } else {
            if s.type(6) != LUA_TNONE, s.type(6) != LUA_TBOOLEAN, s.type(6) != LUA_TTABLE {
                throw LuaRaise("http call asynchronous flag must be 'true', 'false', or empty")
            }
            timeoutMilliseconds = try s.checkInteger(5, fname)
            guard timeoutMilliseconds >= 0 else { throw LuaRaise("http call timeout must be >= 0") }
            if s.type(6) == LUA_TTABLE {
                try readOptions(s, 6)
            } else {
                asynchronous = lua_toboolean(s.L, 6) != 0
            }
        }
        cluster = try s.checkString(2, fname)
        headers = Self.lowercased(try s.headerList(3, fname))
        body = try s.optBytes(4, fname) ?? []
        guard clusterExists(cluster) else { throw LuaRaise("http call cluster invalid. Must be configured") }
        let pseudo = Set(headers.map(\.0).filter { $0 == ":path" || $0 == ":method" || $0 == ":authority" })
        guard pseudo.count == 3 else {
            throw LuaRaise("http call headers must include ':path', ':method', and ':authority'")
        }
        // Nothing downstream re-validates: a CR or LF here would split the request on the wire.
        for (name, value) in headers { try LuaHTTPStream.checkHeaderField(name, value, fname) }
    }

    private mutating func readOptions(_ s: LuaStack, _ idx: Int32) throws(LuaRaise) {
        lua_pushnil(s.L)
        while lua_next(s.L, idx) != 0 {
            guard s.type(-2) == LUA_TSTRING, let key = s.string(-2) else {
                throw LuaRaise("httpCall() options keys must be strings")
            }
            switch key {
            case "asynchronous": asynchronous = lua_toboolean(s.L, -1) != 0
            case "return_duplicate_headers": returnDuplicateHeaders = lua_toboolean(s.L, -1) != 0
            case "timeout_ms":
                guard let t = s.integer(-1) else { throw LuaRaise("'timeout_ms' option must be an integer") }
                guard t >= 0 else { throw LuaRaise("http call timeout must be >= 0") }
                timeoutMilliseconds = t
            case "trace_sampled", "send_xff": break
            default: throw LuaRaise("\"\(key)\" is not valid key for httpCall() options")
            }
            s.pop()
        }
    }

    /// Pushes (headers, body) as Envoy does: ":status" is a string, body nil when empty; with
    /// `duplicates` a repeated header becomes an array of its values.
    static func pushResponse(_ result: Result<LuaHTTPCallResponse, LuaHostError>, _ s: LuaStack, duplicates: Bool)
        throws(LuaRaise) -> Int32
    {
        let response: LuaHTTPCallResponse
        switch result {
        case .success(let r): response = r
        case .failure(let error): throw LuaRaise(error.message)
        }
        lua_createtable(s.L, 0, Int32(clamping: response.headers.count))
        let table = s.top
        for (name, value) in response.headers {
            s.push(name)
            if duplicates, lua_rawget(s.L, table) != LUA_TNIL {
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
            if duplicates { s.pop(); s.push(name) }
            s.push(value)
            lua_rawset(s.L, table)
        }
        if response.body.isEmpty { s.pushNil() } else { s.push(bytes: response.body) }
        return 2
    }

    static func lowercased(_ headers: [(String, String)]) -> [(String, String)] {
        headers.map { name, value in
            name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
                ? (name.lowercased(), value) : (name, value)
        }
    }
}
