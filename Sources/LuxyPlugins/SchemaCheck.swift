import LuxyConfig
import LuxyLua

/// One stage's script loaded in the scratch VM and its config checked against the script's
/// `schema`: the stage with defaults filled in, or the problems, each at the YAML value it
/// concerns (or at the script, when the schema itself is malformed). Runs on the control
/// plane, in the scratch VM's thread; a value, not shared.
struct SchemaCheck {
    private(set) var stage: ResolvedStage
    private(set) var problems: [ConfigurationError.Problem] = []

    init(stage: ResolvedStage, vm: LuaVM) {
        self.stage = stage
        let declared: DeclaredSchema?
        var loadError: LuaScriptError?
        do {
            declared = try load(stage.configuration.config, in: vm).declaredSchema
        } catch {
            declared = error.declaredSchema
            loadError = error
        }
        switch declared {
        case nil:
            if let loadError { fail(loadError) }
        case .malformed(let error)?:
            problems.append(.init(location: nil, message: "\(stage.path): invalid schema: \(error.message)"))
        case .parsed(let schema)?:
            var found: [ConfigSchemaProblem] = []
            let filled = schema.validate(stage.configuration.config, at: ConfigValuePath(), problems: &found)
                ?? stage.configuration.config
            guard found.isEmpty else {
                // The config's errors explain a top-level failure they caused; they come alone.
                problems = found.map(report)
                return
            }
            self.stage.configuration.config = filled
            // The top level runs again with the defaults, as every loop's VM will run it.
            if filled != stage.configuration.config || loadError != nil {
                do {
                    _ = try load(filled, in: vm)
                } catch {
                    fail(error)
                }
            }
        }
    }

    private func load(_ config: ConfigValue, in vm: LuaVM) throws(LuaScriptError) -> LuaScript {
        try vm.loadScript(name: stage.name, chunkName: stage.displayPath, source: stage.source, config: config)
    }

    private mutating func fail(_ error: LuaScriptError) {
        problems.append(.init(location: nil, message: ConfigurationSnapshot.locate(error, in: stage)))
    }

    private func report(_ problem: ConfigSchemaProblem) -> ConfigurationError.Problem {
        let configuration = stage.configuration
        return .init(location: configuration.configLocations.location(of: problem.path) ?? configuration.location,
                     message: "stage '\(stage.name)' \(problem.path): \(problem.message), by the schema of \(stage.displayPath)")
    }
}
