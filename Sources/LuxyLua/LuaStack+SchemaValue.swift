import CLua
import LuxyConfig

extension LuaStack {
    /// Lua → ConfigValue for a script's declared `schema`: nil, booleans, numbers, strings and
    /// tables (keys 1…n: a list; string keys: a map in key order), nested. Anything else
    /// is a schema error. Reads raw (no metamethods run) and converts no key in place, so
    /// nothing here allocates in Lua or can raise.
    func schemaValue(at idx: Int32, depth: Int = 0) throws(ConfigSchemaError) -> ConfigValue {
        let index = lua_absindex(L, idx)
        switch type(index) {
        case LUA_TNIL: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            if lua_isinteger(L, index) != 0 { return .int(Int(lua_tointegerx(L, index, nil))) }
            return .double(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(string(index) ?? "")
        case LUA_TTABLE:
            guard depth < 32 else { throw ConfigSchemaError("schema nested more than 32 tables deep") }
            guard lua_checkstack(L, 4) != 0 else { throw ConfigSchemaError("schema nested too deep") }
            var fields: [(key: String, value: ConfigValue)] = []
            var elements: [Int: ConfigValue] = [:]
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                let value = try schemaValue(at: -1, depth: depth + 1)
                if type(-2) == LUA_TSTRING, let key = string(-2) {
                    fields.append((key, value))
                } else if type(-2) == LUA_TNUMBER, lua_isinteger(L, -2) != 0 {
                    elements[Int(lua_tointegerx(L, -2, nil))] = value
                } else {
                    pop(2)
                    throw ConfigSchemaError("schema tables take string keys or list positions, not \(typeName(-2))")
                }
                pop()
            }
            guard fields.isEmpty || elements.isEmpty else {
                throw ConfigSchemaError("a schema table is either a list or a map, not both")
            }
            if !elements.isEmpty {
                guard Set(elements.keys) == Set(1...elements.count) else {
                    throw ConfigSchemaError("a schema list must have keys 1 to n")
                }
                return .array((1...elements.count).map { elements[$0]! })
            }
            return .map(fields.sorted { $0.key < $1.key })
        default:
            throw ConfigSchemaError("schema values are nil, booleans, numbers, strings or tables, not \(typeName(index))")
        }
    }
}
