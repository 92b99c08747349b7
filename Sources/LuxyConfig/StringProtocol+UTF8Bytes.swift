// Here, in the module the core and the Lua host both build on, so that both scan strings
// the same way: the request path's checks of heads, targets and names (LuxyCore), and the
// Lua host's checks of the headers a script writes and of metric labels (LuxyLua).
extension StringProtocol {
    /// Calls `body` with the string's UTF-8 bytes, contiguous: in place where the string has
    /// them (every native String, a small one copied to the stack first), from a copy
    /// otherwise. The checks and scans the request path makes on heads, targets and field
    /// names are byte loops, and stepping a UTF-8 view index by index costs more than they do.
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        return try Array(utf8).withUnsafeBufferPointer(body)
    }

    /// Whether these UTF-8 bytes start with `prefix`'s, compared as bytes (what HTTP compares
    /// paths by; `hasPrefix` compares Characters, and makes a String of a Substring first).
    @inlinable
    public func hasUTF8Prefix<Prefix: StringProtocol>(_ prefix: Prefix) -> Bool {
        withUTF8Bytes { mine in
            prefix.withUTF8Bytes { theirs in
                mine.count >= theirs.count && zip(mine, theirs).allSatisfy { $0 == $1 }
            }
        }
    }
}
