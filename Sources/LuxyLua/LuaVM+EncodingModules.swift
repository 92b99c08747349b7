import CLua

/// `luxy.base64` and `luxy.url`.
extension LuaVM {
    func callBase64(_ function: LuaModuleFunction, _ arguments: LuaModuleArguments) throws(LuaRaise) -> Int32 {
        let s = arguments.stack
        let input = try arguments.bytes(1)
        switch function {
        case .base64Encode: s.push(Base64.encode(input))
        case .base64URLEncode: s.push(Base64.encodeURL(input))
        default:
            // decode and decode_url both take either alphabet: nil, message on bad input.
            guard let decoded = Base64.decode(input) else {
                s.pushNil()
                s.push("invalid base64")
                return 2
            }
            s.push(bytes: decoded)
        }
        return 1
    }

    func callURL(_ function: LuaModuleFunction, _ arguments: LuaModuleArguments) throws(LuaRaise) -> Int32 {
        let s = arguments.stack
        switch function {
        case .urlEscape:
            s.push(PercentEncoding.escape(try arguments.bytes(1)))
        case .urlUnescape:
            s.push(bytes: PercentEncoding.unescape(try arguments.bytes(1), plusIsSpace: false))
        case .urlParseQuery:
            return pushQuery(PercentEncoding.parseQuery(try arguments.bytes(1)), s)
        default:
            s.push(try buildQuery(arguments))
        }
        return 1
    }

    /// As OpenResty's `ngx.decode_args`: a name seen once maps to its value, one seen more
    /// often to the list of its values, a name without `=` to true.
    private func pushQuery(_ pairs: [PercentEncoding.QueryPair], _ s: LuaStack) -> Int32 {
        lua_createtable(s.L, 0, Int32(min(pairs.count, 64)))
        let table = s.top
        for pair in pairs {
            s.push(bytes: pair.name)
            switch lua_rawget(s.L, table) {
            case LUA_TNIL:
                s.pop()
                s.push(bytes: pair.name)
                pushQueryValue(pair, s)
                lua_rawset(s.L, table)
            case LUA_TTABLE:
                pushQueryValue(pair, s)
                lua_rawseti(s.L, -2, lua_Integer(lua_rawlen(s.L, -2)) + 1)
                s.pop()
            default:
                // The second value of a name: the name now maps to a list of both.
                s.push(bytes: pair.name)
                lua_createtable(s.L, 2, 0)
                lua_pushvalue(s.L, -3)
                lua_rawseti(s.L, -2, 1)
                pushQueryValue(pair, s)
                lua_rawseti(s.L, -2, 2)
                lua_rawset(s.L, table)
                s.pop()
            }
        }
        return 1
    }

    private func pushQueryValue(_ pair: PercentEncoding.QueryPair, _ s: LuaStack) {
        if let value = pair.value { s.push(bytes: value) } else { s.push(true) }
    }

    /// `build_query{a = "1", b = {"2", "3"}, c = true}` → `a=1&b=2&b=3&c`, names sorted so
    /// the same table always gives the same text. Read raw: no metamethod runs.
    private func buildQuery(_ arguments: LuaModuleArguments) throws(LuaRaise) -> String {
        let s = arguments.stack
        guard s.type(1) == LUA_TTABLE else { throw arguments.error(1, "table") }
        var pairs: [PercentEncoding.QueryPair] = []
        func value(_ index: Int32, _ name: [UInt8]) throws(LuaRaise) -> [UInt8]?? {
            switch s.type(index) {
            case LUA_TSTRING, LUA_TNUMBER: return .some(s.bytes(index))
            case LUA_TBOOLEAN: return lua_toboolean(s.L, index) != 0 ? .some(nil) : .none
            default:
                throw LuaRaise("build_query: the value of '\(String(decoding: name, as: UTF8.self))' must be a "
                    + "string, number, boolean or list of them, got \(s.typeName(index))")
            }
        }
        lua_pushnil(s.L)
        while lua_next(s.L, 1) != 0 {
            guard s.type(-2) == LUA_TSTRING, let name = s.bytes(-2) else {
                throw LuaRaise("build_query: names must be strings, got \(s.typeName(-2))")
            }
            if s.type(-1) == LUA_TTABLE {
                var i: lua_Integer = 1
                while lua_rawgeti(s.L, -1, i) != LUA_TNIL {
                    if let item = try value(-1, name) { pairs.append(.init(name: name, value: item)) }
                    s.pop()
                    i += 1
                }
                s.pop()
            } else if let item = try value(-1, name) {
                pairs.append(.init(name: name, value: item))
            }
            s.pop()
        }
        let sorted = pairs.enumerated().sorted { lhs, rhs in
            lhs.element.name.lexicographicallyPrecedes(rhs.element.name)
                || (lhs.element.name == rhs.element.name && lhs.offset < rhs.offset)
        }.map(\.element)
        return PercentEncoding.buildQuery(sorted)
    }
}
