import CLua
import CLuaShims
import LuxyConfig

/// A Lua error to raise once the Swift frames are gone: host functions throw it, the
/// dispatch pushes `message` and returns LUXY_RC_ERROR for the C trampoline to raise.
struct LuaRaise: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Thin helpers over the Lua C API for one thread. Only non-raising API calls are used:
/// nothing here may longjmp through Swift (see CLuaShims).
struct LuaStack {
    let L: OpaquePointer

    @inline(__always) init(_ L: OpaquePointer) { self.L = L }

    var top: Int32 { lua_gettop(L) }
    @inline(__always) func setTop(_ n: Int32) { lua_settop(L, n) }
    @inline(__always) func pop(_ n: Int32 = 1) { lua_settop(L, -n - 1) }
    @inline(__always) func type(_ idx: Int32) -> Int32 { lua_type(L, idx) }

    func push(_ s: String) {
        // Read where the string has its bytes: `withUTF8` would need a mutable copy (a retain
        // and a release per push).
        s.withUTF8Bytes { push(bytes: UnsafeRawBufferPointer($0)) }
    }

    func push(bytes: [UInt8]) {
        bytes.withUnsafeBytes { push(bytes: $0) }
    }

    func push(bytes: UnsafeRawBufferPointer) {
        _ = lua_pushlstring(L, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    func push(_ s: String?) {
        if let s { push(s) } else { lua_pushnil(L) }
    }

    @inline(__always) func push(_ i: Int) { lua_pushinteger(L, lua_Integer(i)) }
    @inline(__always) func push(_ b: Bool) { lua_pushboolean(L, b ? 1 : 0) }
    @inline(__always) func pushNil() { lua_pushnil(L) }

    /// The bytes of a string (or number, converted in place) at `idx`.
    func withBytes<R, Failure: Error>(_ idx: Int32, _ body: (UnsafeRawBufferPointer) throws(Failure) -> R)
        throws(Failure) -> R? {
        let t = lua_type(L, idx)
        guard t == LUA_TSTRING || t == LUA_TNUMBER else { return nil }
        var len = 0
        guard let p = lua_tolstring(L, idx, &len) else { return nil }
        return try body(UnsafeRawBufferPointer(start: p, count: len))
    }

    func string(_ idx: Int32) -> String? {
        withBytes(idx) { String(decoding: $0, as: UTF8.self) }
    }

    func bytes(_ idx: Int32) -> [UInt8]? {
        withBytes(idx) { Array($0) }
    }

    func integer(_ idx: Int32) -> Int? {
        var isNum: Int32 = 0
        let v = lua_tointegerx(L, idx, &isNum)
        return isNum != 0 ? Int(v) : nil
    }

    /// The luxy object (handle, header map, `luxy` object…) at `idx`, copied out; nil for
    /// any other value.
    func object(at idx: Int32) -> luxy_object? {
        var object = luxy_object()
        return luxy_read_object(L, idx, &object) != 0 ? object : nil
    }

    func typeName(_ idx: Int32) -> String {
        String(cString: lua_typename(L, lua_type(L, idx)))
    }

    // MARK: Arguments. `idx` counts self as 1; messages count it as Lua does for methods.

    func argError(_ idx: Int32, _ fname: String, _ expected: String) -> LuaRaise {
        LuaRaise("bad argument #\(idx - 1) to '\(fname)' (\(expected) expected, got \(typeName(idx)))")
    }

    func checkString(_ idx: Int32, _ fname: String) throws(LuaRaise) -> String {
        guard let s = string(idx) else { throw argError(idx, fname, "string") }
        return s
    }

    func checkBytes(_ idx: Int32, _ fname: String) throws(LuaRaise) -> [UInt8] {
        guard let b = bytes(idx) else { throw argError(idx, fname, "string") }
        return b
    }

    func checkInteger(_ idx: Int32, _ fname: String) throws(LuaRaise) -> Int {
        guard let i = integer(idx) else {
            if lua_type(L, idx) == LUA_TNUMBER {
                throw LuaRaise("bad argument #\(idx - 1) to '\(fname)' (number has no integer representation)")
            }
            throw argError(idx, fname, "number")
        }
        return i
    }

    func optBytes(_ idx: Int32, _ fname: String) throws(LuaRaise) -> [UInt8]? {
        if lua_type(L, idx) <= LUA_TNIL { return nil }
        return try checkBytes(idx, fname)
    }

    /// Reads a Lua headers table ({name = value | {values...}}) in table order.
    func headerList(_ idx: Int32, _ fname: String) throws(LuaRaise) -> [(String, String)] {
        guard lua_type(L, idx) == LUA_TTABLE else { throw argError(idx, fname, "table") }
        let table = lua_absindex(L, idx)
        var out: [(String, String)] = []
        lua_pushnil(L)
        while lua_next(L, table) != 0 {
            // Keys are read without conversion: lua_tolstring on a number key breaks lua_next.
            guard lua_type(L, -2) == LUA_TSTRING, let name = string(-2) else {
                throw LuaRaise("\(fname): header names must be strings, got \(typeName(-2))")
            }
            if lua_type(L, -1) == LUA_TTABLE {
                let values = lua_absindex(L, -1)
                var i: lua_Integer = 1
                while lua_rawgeti(L, values, i) != LUA_TNIL {
                    guard let v = string(-1) else {
                        throw LuaRaise("\(fname): value of header '\(name)' must be a string, got \(typeName(-1))")
                    }
                    out.append((name, v))
                    pop()
                    i += 1
                }
                pop()
            } else {
                guard let v = string(-1) else {
                    throw LuaRaise("\(fname): value of header '\(name)' must be a string, got \(typeName(-1))")
                }
                out.append((name, v))
            }
            pop()
        }
        return out
    }
}
