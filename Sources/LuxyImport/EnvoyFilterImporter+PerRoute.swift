/// Route-level patches, and routes of a bare Envoy route configuration. Their Lua part is
/// `LuaPerRoute` in `typed_per_filter_config`, which becomes Luxy's `per_stage:` for that
/// route: `disabled` → `disabled: true`, `name` → `script:` the written `source_codes`
/// entry, `source_code` → `script:` a script written for it, `filter_context` → `config:`.
extension EnvoyFilterImporter {
    mutating func routePatch(_ patch: LocatedNode, applyTo: String, value: LocatedNode?, resourceName: String) {
        let target = Self.routeDescription(patch.child("match")?.child("routeConfiguration"))
        guard perRouteConfigs(value?.child("typed_per_filter_config"), target: target, resourceName: resourceName) else {
            log.note(patch.place, "applyTo \(applyTo) has no Lua in it; skipped (routes are luxy.yaml's virtual_hosts:)")
            return
        }
    }

    /// A bare Envoy `RouteConfiguration` (`virtual_hosts:`): the `LuaPerRoute` of each virtual
    /// host and route.
    mutating func bareRouteConfiguration(_ root: LocatedNode) {
        var found = false
        for vhost in root.child("virtual_hosts")?.elements ?? [] {
            let host = vhost.child("name")?.string ?? "(unnamed)"
            found = perRouteConfigs(vhost.child("typed_per_filter_config"), target: "every route of virtual host '\(host)'",
                                    resourceName: fileStem) || found
            for (index, route) in (vhost.child("routes")?.elements ?? []).enumerated() {
                let name = route.child("name")?.string.map { "route '\($0)'" } ?? "route \(index) (unnamed)"
                found = perRouteConfigs(route.child("typed_per_filter_config"), target: "\(name) of virtual host '\(host)'",
                                        resourceName: fileStem) || found
            }
        }
        if !found { log.note(root.place, "a route configuration without LuaPerRoute; nothing to import") }
    }

    /// Reads every `LuaPerRoute` of one `typed_per_filter_config`; false when it has none.
    private mutating func perRouteConfigs(_ perFilter: LocatedNode?, target: String, resourceName: String) -> Bool {
        let luaOverrides = (perFilter?.entries ?? []).compactMap { filterName, config -> (String, LocatedNode)? in
            if case .luaPerRoute(let inner) = EnvoyHTTPFilterValue.classify(typed: config, name: "") { (filterName, inner) } else { nil }
        }
        for (filterName, config) in luaOverrides {
            let context = config.child("filter_context").map { FlowYAML.render($0.node) }
            let choice: PendingPerRouteSetting.Choice
            if config.child("disabled")?.bool == true {
                choice = .disabled
            } else if let scriptName = config.child("name")?.string {
                choice = .namedSource(scriptName)
            } else if let source = config.child("source_code") {
                guard let located = dataSource(source), let text = scriptText(of: located) else { continue }
                let name = names.claim(resourceName + "-route")
                extraScripts.append(.init(name: name, source: text, role: .perRoute, origin: located.place))
                choice = .script(name)
            } else if context != nil {
                choice = .stageScript
            } else {
                log.note(config.place, "LuaPerRoute on \(target) sets nothing; skipped")
                continue
            }
            perRouteSettings.append(.init(filterName: filterName, target: target, choice: choice, config: context,
                                          place: config.place))
        }
        return !luaOverrides.isEmpty
    }

    /// The settings with stage and script names, once every filter and `source_codes` entry
    /// has its name. `namedSources` maps a `source_codes` key to the script written for it.
    mutating func resolvePerRouteSettings(namedSources: [String: String]) -> [PerRouteLuaSetting] {
        perRouteSettings.compactMap { pending in
            // `envoy.lua` and `envoy.filters.http.lua` are one filter to Envoy.
            let aliases = EnvoyHTTPFilterValue.luaFilterNames.contains(pending.filterName)
                ? EnvoyHTTPFilterValue.luaFilterNames : [pending.filterName]
            let candidates = inserts.filter { aliases.contains($0.envoyName) }.map(\.name)
            let uniqueNames = candidates.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            guard let stage = uniqueNames.first else {
                log.notImported(pending.place, "LuaPerRoute for \(pending.filterName) on \(pending.target): no Lua filter of that name was imported, so there is no stage to set")
                return nil
            }
            if uniqueNames.count > 1 {
                log.note(pending.place, "several imported stages come from \(pending.filterName) (\(uniqueNames.joined(separator: ", "))); the per_stage: below names \(stage), repeat it for the others")
            }
            let choice: PerRouteLuaSetting.Choice
            switch pending.choice {
            case .disabled: choice = .disabled
            case .script(let name): choice = .script(name)
            case .stageScript: choice = .stageScript
            case .namedSource(let key):
                guard let name = namedSources[key] else {
                    log.notImported(pending.place, "LuaPerRoute on \(pending.target) names source_codes entry \(key), which no imported Lua filter has")
                    return nil
                }
                choice = .script(name)
            }
            let setting = PerRouteLuaSetting(target: pending.target, stage: stage, choice: choice, config: pending.config,
                                             origin: pending.place)
            log.note(pending.place, "LuaPerRoute on \(pending.target) mapped to \(setting.perStageYAML); Luxy cannot place it itself: put it on that route (or virtual host) in luxy.yaml's virtual_hosts: (printed with the chains: block)")
            return setting
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
