import CLua
import CLuaShims
import LuxyConfig

extension LuaVM {
    /// Pushes `value` onto the main thread.
    func pushConfig(_ value: ConfigValue) {
        LuaStack(L).push(config: value)
    }
}

extension LuaStack {
    /// ConfigValue → Lua: maps are string-keyed tables, arrays 1-based sequences, ints
    /// integers, secrets plain strings; null map entries are left out (nil).
    func push(config value: ConfigValue) {
        // Deep YAML must not overflow the C stack of Lua: beyond what fits, values are nil.
        guard lua_checkstack(L, 4) != 0 else {
            lua_pushnil(L)
            return
        }
        switch value {
        case .null: lua_pushnil(L)
        case .bool(let b): push(b)
        case .int(let i): push(i)
        case .double(let d): lua_pushnumber(L, d)
        case .string(let str), .secret(let str): push(str)
        case .array(let items):
            lua_createtable(L, Int32(clamping: items.count), 0)
            for (i, item) in items.enumerated() {
                push(config: item)
                lua_rawseti(L, -2, lua_Integer(i + 1))
            }
        case .map(let entries):
            lua_createtable(L, 0, Int32(clamping: entries.count))
            for entry in entries {
                if case .null = entry.value { continue }
                push(entry.key)
                push(config: entry.value)
                lua_rawset(L, -3)
            }
        }
    }
}
