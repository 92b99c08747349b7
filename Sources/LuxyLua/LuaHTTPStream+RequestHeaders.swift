import CLua

extension LuaHTTPStream {
    /// The `aux` of the header-map object `requestHeaders()` hands out (trailers are 1).
    static let requestHeadersAux: Int32 = 2

    /// `handle:requestHeaders()`: in the request phase the same map as `headers()`; in the
    /// response and log phases the request as it went upstream, read-only (it was sent).
    func callRequestHeaderMap(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        if run.phase == .request { return try callHeaderMap(method, s, run, trailers: false) }
        if let read = try readHeader(method, s, host.headers(.request)) { return read }
        throw LuaRaise("requestHeaders(): only get, getNumValues and getAtIndex after the request phase (the request was sent)")
    }
}
