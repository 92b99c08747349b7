/// How much one shared dictionary may hold: `shared_dicts: {NAME: {max_entries, max_bytes}}`.
/// Bytes are the keys' and values' own bytes (see `LuaSharedValue.byteCount`).
public struct LuaSharedDictCapacity: Sendable, Equatable {
    public var maxEntries: Int
    public var maxBytes: Int

    /// What a dictionary no YAML declares gets.
    public static let undeclared = LuaSharedDictCapacity(maxEntries: 10_000, maxBytes: 1 << 20)

    public init(maxEntries: Int, maxBytes: Int) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }
}
