import LuxyConfig
import LuxyLua

/// A configuration and its scripts, checked as a whole: the YAML parsed and validated, every
/// stage resolved to a file, every script compiled and its top-level code run once in a
/// scratch VM. Only a snapshot that passed all of it is ever installed.
public struct ConfigurationSnapshot: Sendable {
    public let configuration: LuxyConfiguration
    public let plan: ChainPlan
    /// SHA-256 (hex) of the normalized configuration and every script: the same on every
    /// replica that runs the same files (see `ConfigurationSnapshot+ContentHash`).
    public let contentHash: String

    public init(configuration: LuxyConfiguration, plan: ChainPlan) {
        self.configuration = configuration
        self.plan = plan
        self.contentHash = Self.hashContent(configuration: configuration, plan: plan)
    }

    /// Same listeners, routes, clusters, chains, configs and script sources — wherever in
    /// the files they were written.
    public func hasSameContent(as other: ConfigurationSnapshot) -> Bool {
        configuration.strippingLocations() == other.configuration.strippingLocations()
            && plan.strippingLocations() == other.plan.strippingLocations()
    }

    public static func load(configFile: String) throws(ConfigurationError) -> ConfigurationSnapshot {
        try check(ConfigurationLoader.load(file: configFile))
    }

    /// The same checks for a configuration read some other way: `luxy import` checks the
    /// scripts it wrote as `luxy check` would.
    public static func check(_ configuration: LuxyConfiguration) throws(ConfigurationError) -> ConfigurationSnapshot {
        var plan = try ChainPlan(configuration: configuration)
        try compileScripts(&plan, limits: configuration.limits)
        return ConfigurationSnapshot(configuration: configuration, plan: plan)
    }

    /// Runs every script's top level once and checks each stage's config against the schema
    /// its script declares; the plan comes back with the schemas' defaults in the configs,
    /// so every loop's VM sees them from its first line. Every library is compiled too,
    /// required or not, so a broken one fails the whole generation (all or nothing).
    private static func compileScripts(_ plan: inout ChainPlan, limits: LimitsConfiguration) throws(ConfigurationError) {
        let luaLimits = LuaLimits(limits)
        let vm: LuaVM
        do {
            vm = try LuaVM(limits: luaLimits, libraries: plan.libraries)
        } catch {
            throw ConfigurationError("cannot start a Lua VM: \(error.message)")
        }
        defer { vm.close() }
        var problems: [ConfigurationError.Problem] = []
        let libraries = plan.libraries
        // The transform never throws: every problem is collected so one check reports them all.
        try plan.updateStages { stage in
            let outcome = SchemaCheck(stage: stage, vm: vm, limits: luaLimits, libraries: libraries)
            problems.append(contentsOf: outcome.problems)
            return outcome.stage
        }
        for library in plan.libraries {
            if let error = LuaVM.check(chunkName: library.chunkName, source: library.source, limits: luaLimits) {
                let message = Self.absolute(error.message, displayPath: library.chunkName, path: library.path)
                if !problems.contains(where: { $0.message.hasSuffix(message) }) {
                    problems.append(.init(location: nil, message: "library load error: " + message))
                }
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
    }

    /// Lua says `plugins/x.lua:3: msg`; users want the absolute path too, to jump to it. The
    /// `script load error: ` in front is Envoy's wording for a script that does not load.
    /// An error raised in a library the script required names the library's file instead.
    static func locate(_ error: LuaScriptError, in stage: ResolvedStage, libraries: [LuaLibrary]) -> String {
        var message = error.message
        if message.hasPrefix(stage.displayPath + ":") {
            message = absolute(message, displayPath: stage.displayPath, path: stage.path)
        } else if let library = libraries.first(where: { message.hasPrefix($0.chunkName + ":") }) {
            message = absolute(message, displayPath: library.chunkName, path: library.path)
        } else {
            message = "\(stage.path): \(message)"
        }
        return "script load error: " + message
    }

    private static func absolute(_ message: String, displayPath: String, path: String) -> String {
        message.hasPrefix(displayPath + ":") ? path + message.dropFirst(displayPath.count) : "\(path): \(message)"
    }
}
