import CLua
import CLuaShims

/// A global function of a script, and the line it was defined at.
public struct LuaGlobalFunction: Sendable, Equatable {
    public var name: String
    public var line: Int
}

extension LuaScript {
    /// The phase functions of HTTP chains, Luxy's and Envoy's spelling, and the log phase.
    public static let httpEntryPoints = ["on_request", "on_response", "envoy_on_request", "envoy_on_response", "on_log"]
    /// The phase functions of tcp chains.
    public static let tcpEntryPoints = LuaTCPEvent.allCases.map(\.functionName)

    /// Whether it defines a phase function of the http chains (true) or the tcp chains (false).
    public func handlesAnyPhase(http: Bool) -> Bool {
        http ? handlesRequest || handlesResponse || handlesLog : LuaTCPEvent.allCases.contains { handles($0) }
    }

    /// Global functions named like an entry point (`on_…`, `envoy_on…`) that are none, such as
    /// `envoy_on_requests`: Luxy would never call them.
    public func strayEntryPoints() -> [LuaGlobalFunction] {
        guard !vm.isClosed else { return [] }
        let L = vm.L
        let s = LuaStack(L)
        let known = Set(Self.httpEntryPoints + Self.tcpEntryPoints)
        lua_rawgeti(L, luxy_registry_index(), lua_Integer(environmentRef))
        let env = s.top
        defer { s.setTop(env - 1) }
        var found: [LuaGlobalFunction] = []
        lua_pushnil(L)
        while lua_next(L, env) != 0 {
            // Keys are checked for type before reading: lua_tolstring on a number key breaks lua_next.
            if s.type(-2) == LUA_TSTRING, s.type(-1) == LUA_TFUNCTION, let name = s.string(-2),
               name.hasPrefix("on_") || name.hasPrefix("envoy_on"), !known.contains(name) {
                var debug = lua_Debug()
                lua_pushvalue(L, -1)
                lua_getinfo(L, ">S", &debug)
                found.append(LuaGlobalFunction(name: name, line: Int(debug.linedefined)))
            }
            s.pop()
        }
        return found.sorted { $0.line < $1.line }
    }
}
