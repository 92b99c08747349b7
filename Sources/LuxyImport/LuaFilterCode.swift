/// What one `envoy.extensions.filters.http.lua.v3.Lua` config says about code: the script
/// that runs by default, and the named `source_codes` routes may pick instead.
struct LuaFilterCode: Sendable, Equatable {
    struct NamedSource: Sendable, Equatable {
        var key: String
        var source: LocatedScriptSource
    }

    var defaultSource: LocatedScriptSource?
    var namedSources: [NamedSource] = []
}
