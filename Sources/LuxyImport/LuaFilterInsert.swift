import LuxyConfig

/// One Lua filter the input adds to Envoy's HTTP filter chain: which Luxy chains it goes
/// to, where Envoy would put it, and its code.
struct LuaFilterInsert: Sendable {
    /// The stage name (unique, file-name safe); the script is `plugins/NAME.lua`.
    var name: String
    /// The filter's `name:` in Envoy (`envoy.lua`, `envoy.filters.http.lua`, …), which later
    /// patches may name as their sub-filter.
    var envoyName: String
    var chains: [ChainName]
    var placement: EnvoyFilterPlacement
    var order: ApplicationOrder
    var code: LuaFilterCode
    var place: InputPlace
}
