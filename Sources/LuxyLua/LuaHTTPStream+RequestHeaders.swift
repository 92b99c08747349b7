import CLua

extension LuaHTTPStream {
    /// The `aux` of the header-map object `requestHeaders()` hands out (trailers are 1).
    static let requestHeadersAux: Int32 = 2

    /// `handle:requestHeaders()`: in the request phase the same map as `headers()`; in the
    /// response and log phases the request as it went upstream, read-only (it was sent).
    func callRequestHeaderMap(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        if run.phase == .request { return try callHeaderMap(method, s, run, trailers: false) }
        let map = host.headers(.request)
        let name = method.luaName
        switch method {
        case .headerGet:
            s.push(map.get(try s.checkString(2, name)))
            return 1
        case .headerGetNumValues:
            s.push(map.values(try s.checkString(2, name)).count)
            return 1
        case .headerGetAtIndex:
            let values = map.values(try s.checkString(2, name))
            let index = try s.checkInteger(3, name)
            s.push(values.indices.contains(index) ? values[index] : nil)
            return 1
        default:
            throw LuaRaise("requestHeaders(): only get, getNumValues and getAtIndex after the request phase (the request was sent)")
        }
    }
}
