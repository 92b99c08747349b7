import CLua
import CLuaShims

/// A value stored in a shared dictionary or queue: what can cross from one event loop's VM to
/// another's. Lua tables and functions belong to one VM and cannot. Immutable, so `Sendable`.
public enum LuaSharedValue: Sendable, Equatable {
    case string([UInt8])
    case integer(Int)
    case number(Double)
    case boolean(Bool)

    /// What the value counts against a dictionary's `max_bytes`: a string's length, 8 for a
    /// number, 1 for a boolean.
    var byteCount: Int {
        switch self {
        case .string(let bytes): bytes.count
        case .integer, .number: 8
        case .boolean: 1
        }
    }
}

extension LuaStack {
    /// The value at `idx` as a shared value; nil for nil or none, a raise for other types.
    func sharedValue(_ idx: Int32, _ fname: String) throws(LuaRaise) -> LuaSharedValue? {
        switch type(idx) {
        case LUA_TNIL, LUA_TNONE: return nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, idx) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, idx) != 0 { return .integer(Int(lua_tointegerx(L, idx, nil))) }
            return .number(lua_tonumberx(L, idx, nil))
        case LUA_TSTRING: return .string(bytes(idx) ?? [])
        default:
            throw LuaRaise("\(fname): values must be strings, numbers or booleans, got \(typeName(idx))")
        }
    }

    func push(shared value: LuaSharedValue?) {
        switch value {
        case nil: lua_pushnil(L)
        case .string(let bytes): push(bytes: bytes)
        case .integer(let i): lua_pushinteger(L, lua_Integer(i))
        case .number(let d): lua_pushnumber(L, d)
        case .boolean(let b): push(b)
        }
    }

    /// A key: a string, or a number taken as its decimal text (OpenResty's rule).
    func sharedKey(_ idx: Int32, _ fname: String) throws(LuaRaise) -> String {
        guard type(idx) == LUA_TSTRING || type(idx) == LUA_TNUMBER, let key = string(idx) else {
            throw LuaRaise("\(fname): the key must be a string, got \(typeName(idx))")
        }
        guard !key.isEmpty else { throw LuaRaise("\(fname): the key must not be empty") }
        return key
    }

    /// An optional number of seconds (a TTL, an interval); nil when absent.
    func optSeconds(_ idx: Int32, _ fname: String, _ what: String) throws(LuaRaise) -> Double? {
        switch type(idx) {
        case LUA_TNIL, LUA_TNONE: return nil
        case LUA_TNUMBER:
            let value = lua_tonumberx(L, idx, nil)
            guard value >= 0, value.isFinite else { throw LuaRaise("\(fname): \(what) must be a number >= 0") }
            return value
        default: throw LuaRaise("\(fname): \(what) must be a number of seconds, got \(typeName(idx))")
        }
    }
}
