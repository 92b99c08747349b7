/// Where a piece of Lua is in Envoy's terms (a `DataSource`): inline text, or a file the
/// input names. Environment variables are left to the caller to report.
enum ScriptSource: Sendable, Equatable {
    case inline(String)
    case file(String)
}

/// The Lua a filter (or a per-route override) carries, with where each piece was written.
struct LocatedScriptSource: Sendable, Equatable {
    var source: ScriptSource
    var place: InputPlace
}
