import CLua

/// The arguments of a module function (`luxy.crypto.sha256(data)`), numbered from 1 as Lua
/// numbers a plain function's, with messages in Lua's wording. Reads only with non-raising
/// API calls.
struct LuaModuleArguments {
    let stack: LuaStack
    let function: String

    init(stack: LuaStack, function: String) {
        self.stack = stack
        self.function = function
    }

    func error(_ index: Int32, _ expected: String) -> LuaRaise {
        LuaRaise("bad argument #\(index) to '\(function)' (\(expected) expected, got \(stack.typeName(index)))")
    }

    func bytes(_ index: Int32) throws(LuaRaise) -> [UInt8] {
        guard let bytes = stack.bytes(index) else { throw error(index, "string") }
        return bytes
    }

    func integer(_ index: Int32) throws(LuaRaise) -> Int {
        guard let value = stack.integer(index) else { throw error(index, "integer") }
        return value
    }

    /// The total length of the string arguments: what the function's work grows with, and
    /// what it is charged for.
    func inputBytes() -> Int {
        var total = 0
        for index in 1...max(1, stack.top) where stack.type(index) == LUA_TSTRING {
            total += Int(lua_rawlen(stack.L, index))
        }
        return total
    }

    /// A string field of the table at `index`, read raw (no metamethod runs); nil if absent.
    func field(_ index: Int32, _ key: String) throws(LuaRaise) -> [UInt8]? {
        guard stack.type(index) == LUA_TTABLE else { throw error(index, "table") }
        stack.push(key)
        lua_rawget(stack.L, index)
        defer { stack.pop() }
        if stack.type(-1) == LUA_TNIL { return nil }
        guard stack.type(-1) == LUA_TSTRING, let bytes = stack.bytes(-1) else {
            throw LuaRaise("bad argument #\(index) to '\(function)' (field '\(key)' must be a string)")
        }
        return bytes
    }
}
