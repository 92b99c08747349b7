/// A script failure with the place it happened, for logs and `luxy check`.
public struct LuaScriptError: Error, Sendable, CustomStringConvertible {
    /// Lua's message, e.g. "plugins/x.lua:3: attempt to call a nil value (global 'foo')".
    public var message: String
    /// "plugins/x.lua"
    public var chunkName: String
    /// Parsed from the message's "chunk:line:" prefix, else from the traceback.
    public var line: Int?
    public var traceback: String?
    /// The `schema` the script declared before it failed (its top level runs top-down, so a
    /// schema written first is there): `luxy check` reports the config against it, which
    /// usually says more than the Lua error the bad config caused.
    public var declaredSchema: DeclaredSchema?

    public init(message: String, chunkName: String, line: Int? = nil, traceback: String? = nil) {
        self.message = message
        self.chunkName = chunkName
        self.traceback = traceback
        self.line = line ?? LuaScriptError.parseLine(message) ?? traceback.flatMap(LuaScriptError.parseLine)
    }

    public var description: String { message }

    /// The line of the first "name:123:" in `text`. Lua shortens long chunk names with a
    /// leading "...", so the name itself is not compared.
    static func parseLine(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: ":") {
                var j = i + 1
                var value = 0
                while j < bytes.count, bytes[j] >= UInt8(ascii: "0"), bytes[j] <= UInt8(ascii: "9"), value < 1 << 40 {
                    value = value * 10 + Int(bytes[j] - UInt8(ascii: "0"))
                    j += 1
                }
                if j > i + 1, j < bytes.count, bytes[j] == UInt8(ascii: ":"), i > 0 { return value }
            }
            i += 1
        }
        return nil
    }
}
