import CLua
import CLuaShims

extension LuaVM {
    /// `require` and what it reaches: the generation's libraries (compiled when first
    /// required), cjson, and the host modules (`luxy.base64`, `luxy.url`, `luxy.crypto`).
    /// Runs once, as the VM is made, with the memory cap off.
    func installModules(libraries: [LuaLibrary]) throws(LuaScriptError) {
        luxy_install_require(L, globalsMetaRef)
        if luxy_open_json(L, max(0, limits.maxJSONBytes)) != LUA_OK {
            let message = LuaStack(L).string(-1) ?? "cannot open cjson"
            LuaStack(L).pop()
            throw LuaScriptError(message: message, chunkName: "")
        }
        let modules = Dictionary(grouping: LuaModuleFunction.allCases, by: \.module)
        for (module, functions) in modules {
            lua_createtable(L, 0, Int32(functions.count))
            for function in functions {
                luxy_push_host_method(L, function.rawValue)
                lua_setfield(L, -2, function.luaName)
            }
            luxy_add_builtin_module(L, module.rawValue)
        }
        for library in libraries {
            var source = library.source
            source.withUTF8 { buf in
                let base = buf.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
                luxy_add_library_source(L, library.name, base, buf.count, "@" + library.chunkName)
            }
        }
    }

    /// Every `require` this VM ran so far, in order: `luxy check` shows who requires what.
    public func requires() -> [LuaRequire] {
        guard !isClosed else { return [] }
        let s = LuaStack(L)
        luxy_push_require_edges(L)
        defer { s.pop() }
        var out: [LuaRequire] = []
        var i: lua_Integer = 1
        while lua_rawgeti(L, -1, i) == LUA_TTABLE {
            lua_rawgeti(L, -1, 1)
            lua_rawgeti(L, -2, 2)
            lua_rawgeti(L, -3, 3)
            out.append(LuaRequire(requirer: s.string(-3) ?? "?", name: s.string(-2) ?? "?", line: s.integer(-1) ?? 0))
            s.pop(4)
            i += 1
        }
        s.pop()
        return out
    }

    /// A module function: its arguments start at 1 (there is no self), and it needs no
    /// running stream, so it works in top-level code as in a phase.
    func callModuleFunction(_ function: LuaModuleFunction, _ s: LuaStack) -> Int32 {
        // Pure functions of their arguments: safe to run inside another host call too.
        let outerHostCall = inHostCall
        inHostCall = true
        defer { inHostCall = outerHostCall }
        let arguments = LuaModuleArguments(stack: s, function: function.luaName)
        do {
            let cost = arguments.inputBytes() * LuaModuleFunction.instructionsPerByte
            let slot = luxy_vm_budget_slot(s.L)!
            slot.pointee -= Int64(cost)
            luxy_vm_charged(s.L)
            if slot.pointee <= 0 { return Int32(LUXY_RC_BUDGET_EXCEEDED) }
            switch function.module {
            case .base64: return try callBase64(function, arguments)
            case .url: return try callURL(function, arguments)
            case .crypto: return try callCrypto(function, arguments)
            }
        } catch {
            s.push(error.message)
            return Int32(LUXY_RC_ERROR)
        }
    }
}
