/// What a patch's `value:` (or a bare filter) is: a Lua filter with the node that holds its
/// code, a per-route Lua override, or some other filter.
enum EnvoyHTTPFilterValue {
    /// `config` holds `inline_code` / `default_source_code` / `source_codes`.
    case lua(config: LocatedNode, envoyName: String)
    case luaPerRoute(LocatedNode)
    case other(name: String, type: String?)
    case absent

    static let luaType = "envoy.extensions.filters.http.lua.v3.Lua"
    static let luaPerRouteType = "envoy.extensions.filters.http.lua.v3.LuaPerRoute"
    /// Envoy's v2 name, still in older Istio examples.
    static let luaV2Type = "envoy.config.filter.http.lua.v2.Lua"
    static let luaFilterNames: Set<String> = ["envoy.lua", "envoy.filters.http.lua"]

    init(_ value: LocatedNode) {
        let name = value.child("name")?.string ?? ""
        if let typed = value.child("typed_config") {
            self = Self.classify(typed: typed, name: name)
        } else if let config = value.child("config"), Self.luaFilterNames.contains(name) {
            // Istio before 1.6: `config:` is the Lua filter's struct itself.
            self = .lua(config: config, envoyName: name)
        } else if value.child("config_discovery") != nil {
            self = .other(name: name, type: "config_discovery (ECDS)")
        } else if name.isEmpty {
            self = .absent
        } else {
            self = .other(name: name, type: nil)
        }
    }

    /// A typed config whose `@type` names the Lua filter, directly or through a TypedStruct
    /// (`type_url` + `value`).
    static func classify(typed: LocatedNode, name: String) -> EnvoyHTTPFilterValue {
        let type = typed.child("@type")?.string ?? ""
        if type.hasSuffix("TypedStruct"), let url = typed.child("type_url")?.string {
            let inner = typed.child("value") ?? typed
            if isType(url, luaPerRouteType) { return .luaPerRoute(inner) }
            if isType(url, luaType) || isType(url, luaV2Type) { return .lua(config: inner, envoyName: name) }
            return .other(name: name, type: url)
        }
        if isType(type, luaPerRouteType) { return .luaPerRoute(typed) }
        if isType(type, luaType) || isType(type, luaV2Type) { return .lua(config: typed, envoyName: name) }
        return .other(name: name, type: type.isEmpty ? nil : type)
    }

    /// `type.googleapis.com/X` or plain `X`.
    static func isType(_ url: String, _ type: String) -> Bool {
        url == type || url.hasSuffix("/" + type)
    }
}
