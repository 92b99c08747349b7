import CLua
import CLuaShims

extension LuaStack {
    /// Pushes a copy of the value at `idx` as dynamic metadata may hold it (Envoy's
    /// `MetadataMapHelper::loadValue`): nil, booleans, numbers, strings, and tables that are
    /// lists (keys 1…n) or maps (string keys), nested. Functions, userdata, coroutines and
    /// tables mixing both kinds of key raise. A copy, so a script that changes its table later
    /// does not change what another stage reads, and what `get()` returns is the reader's own.
    func pushMetadataCopy(of idx: Int32, depth: Int = 0) throws(LuaRaise) {
        let index = lua_absindex(L, idx)
        switch type(index) {
        case LUA_TNIL, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING:
            lua_pushvalue(L, index)
        case LUA_TTABLE:
            // Also what stops a table that contains itself.
            guard depth < 32 else { throw LuaRaise("dynamicMetadata value nested more than 32 tables deep") }
            lua_createtable(L, 0, 0)
            let copy = top
            var stringKeys = 0
            var integerKeys = 0
            lua_pushnil(L)
            while lua_next(L, index) != 0 {
                if type(-2) == LUA_TSTRING {
                    stringKeys += 1
                } else if lua_isinteger(L, -2) != 0 {
                    integerKeys += 1
                } else {
                    throw LuaRaise("unexpected key type '\(typeName(-2))' in dynamicMetadata")
                }
                guard stringKeys == 0 || integerKeys == 0 else {
                    throw LuaRaise("a dynamicMetadata table is either a list or a map, not both")
                }
                lua_pushvalue(L, -2)
                try pushMetadataCopy(of: -2, depth: depth + 1)
                lua_rawset(L, copy)
                pop()
            }
            if integerKeys > 0, Int(lua_rawlen(L, copy)) != integerKeys {
                throw LuaRaise("a dynamicMetadata list must have keys 1 to n")
            }
        default:
            throw LuaRaise("unexpected type '\(typeName(index))' in dynamicMetadata")
        }
    }
}
