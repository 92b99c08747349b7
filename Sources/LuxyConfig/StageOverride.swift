/// What one route (or virtual host) changes about one stage of its chain: Envoy's
/// `LuaPerRoute`, keyed by stage name under `per_stage:`. A route's entry replaces its
/// virtual host's for the same stage.
public struct StageOverride: Sendable, Equatable {
    /// The stage does not run for this route (health checks, admin routes).
    public var disabled = false
    /// Another script, `plugins/NAME.lua` else `modules/NAME.lua`, runs in the stage's slot
    /// (its priority, services and fail_open), with the stage's `config`.
    public var script: String?
    /// Per-route settings the script reads with `handle:filterContext()`, as in Envoy.
    public var context: ConfigValue?
    public var location: SourceLocation

    public init(disabled: Bool = false, script: String? = nil, context: ConfigValue? = nil, location: SourceLocation) {
        self.disabled = disabled
        self.script = script
        self.context = context
        self.location = location
    }
}
