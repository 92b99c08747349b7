import CLua
import CLuaShims

extension LuaVM {
    /// Builds the `luxy` global (read-only, shared by every script of the VM) and the
    /// metatables of the objects it hands out. Called once, when the VM is made.
    func makeLuxyTable() {
        luxyState.metatableRefs = LuxyObjectKind.allCases.map { kind in
            makeObjectMetatable(typeName: kind.typeName, methods: LuxyMethod.allCases.filter { $0.kind == kind })
        }
        let s = LuaStack(L)
        lua_createtable(L, 0, 8)
        let root = lua_gettop(L)
        for function in LuxyMethod.allCases where function.kind == nil {
            var parts = function.luaName.split(separator: ".").map(String.init)
            let leaf = parts.removeLast()
            lua_pushvalue(L, root)
            for part in parts {
                if lua_getfield(L, -1, part) != LUA_TTABLE {
                    s.pop()
                    lua_createtable(L, 0, 4)
                    lua_pushvalue(L, -1)
                    lua_setfield(L, -3, part)
                }
                lua_rotate(L, -2, 1)
                s.pop()
            }
            luxy_push_host_method(L, function.rawValue)
            lua_setfield(L, -2, leaf)
            s.pop()
        }
        // Read-only all the way down: one plugin cannot swap `luxy.shared` under the others.
        luxy_push_readonly(L, root)
        luxy_pushglobaltable(L)
        lua_rotate(L, -2, 1)
        lua_setfield(L, -2, "luxy")
        s.setTop(root - 1)
    }

    /// Pushes a new object of `kind` that lives as long as the VM; `aux` finds its Swift side.
    func pushLuxyObject(_ L: OpaquePointer, _ kind: LuxyObjectKind, aux: Int) {
        luxy_push_object(L, luxyState.metatableRefs[Int(kind.rawValue - 100)], 0, kind.rawValue, Int32(aux))
    }
}
