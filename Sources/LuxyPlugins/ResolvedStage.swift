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
    /// Scripts that routes run in this stage's slot instead (`per_stage: {NAME: {script: OTHER}}`),
    /// by script name: each with this stage's configuration and its own file.
    public var alternates: [String: ResolvedStage] = [:]

    public var name: String { configuration.name }
    public var priority: Int { configuration.priority }
}
