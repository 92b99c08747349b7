import LuxyConfig

/// A Lua stage with its script found and read: what a generation is built from.
public struct ResolvedStage: Sendable, Equatable {
    public enum Origin: String, Sendable { case plugin = "plugins", module = "modules" }

    public var configuration: StageConfiguration
    public var origin: Origin
    /// Absolute path of the script.
    public var path: String
    /// `plugins/NAME.lua` or `modules/NAME.lua`: the chunk name errors and dumps show.
    public var displayPath: String
    public var source: String

    public var name: String { configuration.name }
    public var priority: Int { configuration.priority }
}
