import CLua
import CLuaShims
import LuxyConfig

extension LuaHTTPStream {
    func callHeaderMap(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun, trailers: Bool) throws(LuaRaise) -> Int32 {
        let map = headerMap(run, trailers: trailers)
        if let read = try readHeader(method, s, map) { return read }
        let name = method.luaName
        if method.modifiesHeaders {
            // Envoy's HeaderMapWrapper::checkModifiable: an open iteration first, then
            // whether the headers went on already.
            try checkNotIterating(run, trailers: trailers)
            if !trailers, run.headersContinued { throw LuaRaise("header map can no longer be modified") }
        }
        switch method {
        case .headerAdd:
            let key = try s.checkString(2, name)
            let value = try s.checkString(3, name)
            try Self.checkHeaderField(key, value, name)
            map?.add(key, value)
            return 0
        case .headerReplace:
            let key = try s.checkString(2, name)
            let value = try s.checkString(3, name)
            try Self.checkHeaderField(key, value, name)
            map?.replace(key, value)
            return 0
        case .headerRemove:
            map?.remove(try s.checkString(2, name))
            return 0
        case .headerSetReasonPhrase:
            let phrase = try s.checkString(2, name)
            // It goes on the status line: CR and LF would split the response.
            guard !phrase.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw LuaRaise("setHttp1ReasonPhrase(): CR, LF and NUL are not allowed")
            }
            map?.setReasonPhrase(phrase)
            return 0
        case .headerPairs:
            // Envoy's HeaderMapWrapper::luaPairs: one open iteration per map.
            guard iteration(run, trailers: trailers) == .idle else {
                throw LuaRaise("cannot create a second iterator before completing the first")
            }
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
            lua_rawgeti(s.L, luxy_registry_index(), lua_Integer(vm.headerIterationEndedRef))
            lua_pushvalue(s.L, 1)
            luxy_push_notifying_list_iterator(s.L)
            setIteration(.inProgress, run, trailers: trailers)
            return 1
        case .headerIterationEnded:
            setIteration(.idle, run, trailers: trailers)
            return 0
        default:
            throw LuaRaise("'\(name)' is not a header map method")
        }
    }

    /// `get`, `getNumValues` and `getAtIndex` on `map` (none reads as empty), as every header
    /// map answers them, writable or not; nil for the other methods.
    func readHeader(_ method: LuaMethod, _ s: LuaStack, _ map: LuaHeaderMap?) throws(LuaRaise) -> Int32? {
        let name = method.luaName
        switch method {
        case .headerGet:
            s.push(map?.get(try s.checkString(2, name)))
        case .headerGetNumValues:
            s.push(map?.values(try s.checkString(2, name)).count ?? 0)
        case .headerGetAtIndex:
            let key = try s.checkString(2, name)
            let index = try s.checkInteger(3, name)
            let values = map?.values(key) ?? []
            s.push(values.indices.contains(index) ? values[index] : nil)
        default:
            return nil
        }
        return 1
    }

    /// Envoy's HeaderMapWrapper::checkModifiable: the loop iterates the map as it was, so a
    /// change inside it raises rather than going unseen by the loop.
    private func checkNotIterating(_ run: PhaseRun, trailers: Bool) throws(LuaRaise) {
        guard iteration(run, trailers: trailers) == .idle else {
            throw LuaRaise("header map cannot be modified while iterating")
        }
    }

    private func iteration(_ run: PhaseRun, trailers: Bool) -> LuaHeaderIteration {
        trailers ? run.trailersIteration : run.headersIteration
    }

    private func setIteration(_ iteration: LuaHeaderIteration, _ run: PhaseRun, trailers: Bool) {
        if trailers { run.trailersIteration = iteration } else { run.headersIteration = iteration }
    }

    /// Names must be tokens (a leading ':' for pseudo-headers) and values free of CR, LF and
    /// NUL. Anything else cannot go on the wire: NIO refuses to write such a head, which
    /// would surface far from the script as a 502 or a silently dropped client connection.
    static func checkHeaderField(_ key: String, _ value: String, _ fname: String) throws(LuaRaise) {
        // Over the strings' contiguous bytes: a scan through the UTF-8 views' indices was
        // most of a header write's check.
        guard key.withUTF8Bytes(isHeaderName) else {
            throw LuaRaise("\(fname)(): invalid header name '\(key)'")
        }
        guard value.withUTF8Bytes(isHeaderValue) else {
            throw LuaRaise("\(fname)(): invalid value for header '\(key)' (CR, LF and NUL are not allowed)")
        }
    }

    /// A token, after a ':' for a pseudo-header.
    private static func isHeaderName(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let name = bytes.first == UInt8(ascii: ":") ? bytes.dropFirst() : bytes[...]
        return !name.isEmpty && name.allSatisfy(isTokenByte)
    }

    private static func isHeaderValue(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        !bytes.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }

    /// RFC 9110 tchar, as one switch the compiler makes a table of (a scan of the symbols'
    /// string for every `-` in a name was most of a header write's check).
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
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

extension LuaMethod {
    /// Header map methods that change the map.
    var modifiesHeaders: Bool {
        switch self {
        case .headerAdd, .headerReplace, .headerRemove, .headerSetReasonPhrase: return true
        default: return false
        }
    }
}
