/// Route-level patches. Their Lua part is `LuaPerRoute` in `typed_per_filter_config`, which
/// Luxy cannot express yet: each is reported, and code it carries is still written out.
extension EnvoyFilterImporter {
    mutating func routePatch(_ patch: LocatedNode, applyTo: String, value: LocatedNode?, resourceName: String) {
        let perFilter = value?.child("typed_per_filter_config")
        let luaOverrides = (perFilter?.entries ?? []).filter { _, config in
            if case .luaPerRoute = EnvoyHTTPFilterValue.classify(typed: config, name: "") { true } else { false }
        }
        guard !luaOverrides.isEmpty else {
            log.note(patch.place, "applyTo \(applyTo) has no Lua in it; skipped (routes are luxy.yaml's virtual_hosts:)")
            return
        }
        let route = Self.routeDescription(patch.child("match")?.child("routeConfiguration"))
        for (filterName, config) in luaOverrides {
            if config.child("disabled")?.bool == true {
                log.notImported(config.place, "LuaPerRoute disables \(filterName) on \(route): Luxy has no per-route Lua settings; the stage runs there too (limit it with the stage's services:)")
            } else if let scriptName = config.child("name")?.string {
                log.notImported(config.place, "LuaPerRoute runs source_codes entry \(scriptName) instead of the default code on \(route): Luxy has no per-route script choice; not imported")
            } else if let source = config.child("source_code"), let located = dataSource(source),
                      let text = scriptText(of: located) {
                let name = names.claim(resourceName + "-route")
                extraScripts.append(.init(name: name, source: text, role: .perRoute, origin: located.place))
                log.notImported(config.place, "LuaPerRoute runs its own code on \(route): written to plugins/\(name).lua, but Luxy has no per-route script choice, so it is in no chain")
            } else {
                log.notImported(config.place, "LuaPerRoute on \(route) not mapped: Luxy has no per-route Lua settings")
            }
        }
    }

    /// `route 'reviews' in virtual host 'reviews.default.svc.cluster.local:9080'`, as far as the match says.
    static func routeDescription(_ match: LocatedNode?) -> String {
        let vhost = match?.child("vhost")
        let virtualHost = vhost?.child("name")?.string
        let route = vhost?.child("route")?.child("name")?.string
        switch (route, virtualHost) {
        case let (route?, host?): return "route '\(route)' of virtual host '\(host)'"
        case let (route?, nil): return "route '\(route)'"
        case let (nil, host?): return "every route of virtual host '\(host)'"
        case (nil, nil): return "the routes it matches"
        }
    }
}
