import CLua
import CLuaShims

extension LuaHTTPStream {
    func callHeaderMap(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun, trailers: Bool) throws(LuaRaise) -> Int32 {
        let map = headerMap(run, trailers: trailers)
        let name = method.luaName
        switch method {
        case .headerGet:
            s.push(map?.get(try s.checkString(2, name)))
            return 1
        case .headerGetNumValues:
            s.push(map?.values(try s.checkString(2, name)).count ?? 0)
            return 1
        case .headerGetAtIndex:
            let key = try s.checkString(2, name)
            let index = try s.checkInteger(3, name)
            let values = map?.values(key) ?? []
            s.push(values.indices.contains(index) ? values[index] : nil)
            return 1
        case .headerAdd:
            let key = try s.checkString(2, name)
            map?.add(key, try s.checkString(3, name))
            return 0
        case .headerReplace:
            let key = try s.checkString(2, name)
            map?.replace(key, try s.checkString(3, name))
            return 0
        case .headerRemove:
            map?.remove(try s.checkString(2, name))
            return 0
        case .headerSetReasonPhrase:
            // HTTP/1 reason phrases are not kept; accepted so Envoy scripts run unchanged.
            _ = try s.checkString(2, name)
            return 0
        case .headerPairs:
            let entries = map?.entries() ?? []
            lua_createtable(s.L, Int32(clamping: entries.count * 2), 0)
            var i: lua_Integer = 1
            for (key, value) in entries {
                s.push(key)
                lua_rawseti(s.L, -2, i)
                s.push(value)
                lua_rawseti(s.L, -2, i + 1)
                i += 2
            }
            luxy_push_list_iterator(s.L)
            return 1
        default:
            throw LuaRaise("'\(name)' is not a header map method")
        }
    }

    private func headerMap(_ run: PhaseRun, trailers: Bool) -> LuaHeaderMap? {
        if trailers {
            if run.trailers == nil { run.trailers = host.trailers(run.phase) }
            return run.trailers
        }
        if let headers = run.headers { return headers }
        let headers = host.headers(run.phase)
        run.headers = headers
        return headers
    }
}
