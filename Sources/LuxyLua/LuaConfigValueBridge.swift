import CLua
import CLuaShims
import LuxyConfig

/// ConfigValue in and out of any Lua state, for code outside LuxyLua that holds a state of its
/// own (the plugin test harness's test files). Used on the thread that owns the state.
public enum LuaConfigValueBridge {
    /// Pushes `value` as a script's `config` sees it (see `LuaStack.push(config:)`).
    public static func push(_ value: ConfigValue, onto L: OpaquePointer) {
        LuaStack(L).push(config: value)
    }

    /// The bytes of the string at `idx` (a number is converted in place); nil for other types.
    public static func bytes(_ L: OpaquePointer, at idx: Int32) -> [UInt8]? {
        LuaStack(L).bytes(idx)
    }

    public static func push(bytes: [UInt8], onto L: OpaquePointer) {
        LuaStack(L).push(bytes: bytes)
    }

    /// The value at `idx`: tables whose keys are 1…n become arrays, other tables maps with
    /// their keys as strings (sorted, so the order is stable); functions, userdata and threads
    /// read as null. Raw access only, so no metamethod runs (nothing can raise here).
    public static func read(_ L: OpaquePointer, at idx: Int32, depth: Int = 0) -> ConfigValue {
        let s = LuaStack(L)
        let index = lua_absindex(L, idx)
        switch s.type(index) {
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .int(Int(lua_tointegerx(L, index, nil))) }
            return .double(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(s.string(index) ?? "")
        case LUA_TTABLE:
            guard depth < 32, lua_checkstack(L, 4) != 0 else { return .null }
            var entries: [(key: String, value: ConfigValue)] = []
            var integerKeys = 0
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let key: String
                if lua_isinteger(L, -2) != 0 {
                    integerKeys += 1
                    key = String(lua_tointegerx(L, -2, nil))
                } else if s.type(-2) == LUA_TSTRING {
                    key = s.string(-2) ?? ""
                } else {
                    s.pop()
                    continue
                }
                entries.append((key, read(L, at: -1, depth: depth + 1)))
                s.pop()
            }
            if integerKeys > 0, integerKeys == entries.count, Int(lua_rawlen(L, index)) == integerKeys {
                return .array(entries.sorted { Int($0.key)! < Int($1.key)! }.map(\.value))
            }
            return .map(entries.sorted { $0.key < $1.key })
        default: return .null
        }
    }
}
