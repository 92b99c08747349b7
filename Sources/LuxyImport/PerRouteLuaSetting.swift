/// A `LuaPerRoute` carried over as Luxy's `per_stage:` for one route or virtual host. Luxy's
/// routes are luxy.yaml's `virtual_hosts:`, which the import does not write, so the setting
/// is printed for the user to put on the route it names.
public struct PerRouteLuaSetting: Sendable, Equatable {
    /// What the route does with the stage (`LuaPerRoute`'s `override` oneof).
    public enum Choice: Sendable, Equatable {
        /// `disabled: true`: the stage is skipped there.
        case disabled
        /// `name:` or `source_code:`: another script runs in the stage's slot.
        case script(String)
        /// Neither: only `filter_context` is set, the stage's own script runs.
        case stageScript
    }

    /// Where Envoy applies it, in the input's terms: `route 'health' of virtual host 'inbound|http|8080'`.
    public var target: String
    /// The imported stage whose slot it concerns.
    public var stage: String
    public var choice: Choice
    /// `filter_context` as a YAML flow mapping, for `config:` (the script's `filterContext()`).
    public var config: String?
    public var origin: InputPlace

    /// `per_stage: {reviews-lua: {disabled: true}}`, one line.
    public var perStageYAML: String {
        var fields: [String] = []
        switch choice {
        case .disabled: fields.append("disabled: true")
        case .script(let name): fields.append("script: \(name)")
        case .stageScript: break
        }
        if let config { fields.append("config: \(config)") }
        return "per_stage: {\(stage): {\(fields.joined(separator: ", "))}}"
    }
}
