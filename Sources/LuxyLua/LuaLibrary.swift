/// A shared Lua library of a generation: `lib/a/b.lua`, which `require("a.b")` loads. Read
/// from disk with the plugins when the generation is built; a plain value.
public struct LuaLibrary: Sendable, Equatable {
    /// What `require` takes: the path under the lib folder without `.lua`, `/` as `.`.
    public var name: String
    /// The chunk name errors show, `lib/a/b.lua`.
    public var chunkName: String
    /// The absolute path, for messages that point at the file.
    public var path: String
    public var source: String

    public init(name: String, chunkName: String, path: String, source: String) {
        self.name = name
        self.chunkName = chunkName
        self.path = path
        self.source = source
    }
}

/// One `require(name)` call a VM saw, from chunk `requirer` at `line`: what `luxy check`
/// lists under `libraries:`.
public struct LuaRequire: Sendable, Equatable {
    public var requirer: String
    public var name: String
    public var line: Int
}
