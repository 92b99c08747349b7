import LuxyConfig
import LuxyLua

/// One stage's script loaded in the scratch VM and its config checked against the script's
/// `schema`: the stage with defaults filled in, or the problems, each at the YAML value it
/// concerns (or at the script, when the schema itself is malformed). Runs on the control
/// plane, in the scratch VM's thread; a value, not shared.
struct SchemaCheck {
    private(set) var stage: ResolvedStage
    private(set) var problems: [ConfigurationError.Problem] = []
    /// What `require` finds: the probe VM needs them as the shared one does.
    private let libraries: [LuaLibrary]

    /// The script's top level runs twice: first in a throwaway VM with the config as written,
    /// to read its `schema` (what that run declares — metrics, dictionaries — must not stay),
    /// then in `vm`, shared with the other scripts, with the defaults filled in, as every
    /// loop's VM will run it.
    init(stage: ResolvedStage, vm: LuaVM, limits: LuaLimits, libraries: [LuaLibrary]) {
        self.stage = stage
        self.libraries = libraries
        let declared: DeclaredSchema?
        var probeError: LuaScriptError?
        do {
            let probe = try LuaVM(limits: limits, libraries: libraries)
            defer { probe.close() }
            do {
                declared = try load(stage.configuration.config, in: probe).declaredSchema
            } catch {
                declared = error.declaredSchema
                probeError = error
            }
        } catch {
            declared = nil
            probeError = error
        }
        var config = stage.configuration.config
        switch declared {
        case nil:
            if let probeError {
                fail(probeError)
                return
            }
        case .malformed(let error)?:
            problems.append(.init(location: nil, message: "\(stage.path): invalid schema: \(error.message)"))
            return
        case .parsed(let schema)?:
            var found: [ConfigSchemaProblem] = []
            config = schema.validate(config, at: ConfigValuePath(), problems: &found) ?? config
            guard found.isEmpty else {
                // The config's errors explain a top-level failure they caused; they come alone.
                problems = found.map(report)
                return
            }
            self.stage.configuration.config = config
        }
        do {
            _ = try load(config, in: vm)
        } catch {
            fail(error)
        }
    }

    private func load(_ config: ConfigValue, in vm: LuaVM) throws(LuaScriptError) -> LuaScript {
        try vm.loadScript(name: stage.name, chunkName: stage.displayPath, source: stage.source, config: config)
    }

    private mutating func fail(_ error: LuaScriptError) {
        problems.append(.init(location: nil, message: ConfigurationSnapshot.locate(error, in: stage, libraries: libraries)))
    }

    private func report(_ problem: ConfigSchemaProblem) -> ConfigurationError.Problem {
        let configuration = stage.configuration
        return .init(location: configuration.configLocations.location(of: problem.path) ?? configuration.location,
                     message: "stage '\(stage.name)' \(problem.path): \(problem.message), by the schema of \(stage.displayPath)")
    }
}
