import LuxyConfig

/// From the filters found to scripts and prioritised chain entries.
extension EnvoyFilterImporter {
    mutating func assemblePlan() -> ImportPlan {
        // Istio's order; `sorted` is not stable, so the index breaks ties between equal orders.
        let ordered = inserts.enumerated().sorted { lhs, rhs in
            lhs.element.order != rhs.element.order ? lhs.element.order < rhs.element.order : lhs.offset < rhs.offset
        }.map(\.element)

        var scripts: [ImportPlan.Script] = []
        var placed: [LuaFilterInsert] = []
        var namedSources: [String: String] = [:]
        for insert in ordered {
            if let source = insert.code.defaultSource, let text = scriptText(of: source) {
                scripts.append(.init(name: insert.name, source: text, role: .filter, origin: source.place))
                placed.append(insert)
            }
            for named in insert.code.namedSources {
                guard let text = scriptText(of: named.source) else { continue }
                let name = names.claim(named.key)
                namedSources[named.key] = name
                scripts.append(.init(name: name, source: text, role: .namedSource(filter: insert.name, key: named.key),
                                     origin: named.source.place))
                log.note(named.source.place, "source_codes entry \(named.key) written to plugins/\(name).lua; Envoy runs it only on routes whose LuaPerRoute names it, so it is in no chain: a route's per_stage: {\(insert.name): {script: \(name)}} runs it")
            }
        }
        let entries = chainEntries(for: placed)
        let routeSettings = resolvePerRouteSettings(namedSources: namedSources)
        let findings = log.findings.enumerated().sorted { lhs, rhs in
            let left = (lhs.element.place.document, lhs.element.place.location?.line ?? 0, lhs.offset)
            let right = (rhs.element.place.document, rhs.element.place.location?.line ?? 0, rhs.offset)
            return left < right
        }.map(\.element)
        return ImportPlan(inputFile: file, scripts: scripts + extraScripts, chainEntries: entries,
                          perRouteSettings: routeSettings, findings: findings)
    }

    /// Applies the inserts to a model of each chain in Istio's order, then numbers the
    /// imported filters by where Envoy would run them (see `ImportPriorities`).
    private mutating func chainEntries(for placed: [LuaFilterInsert]) -> [ImportPlan.ChainEntry] {
        var entries: [ImportPlan.ChainEntry] = []
        var notedAnchors: Set<String> = []
        var notedAfterRouter: Set<String> = []
        for chainName in [ChainName.inboundHTTP, .outboundHTTP] {
            var chain = EnvoyHTTPFilterChain()
            for (id, insert) in placed.enumerated() where insert.chains.contains(chainName) {
                if case .assumedAnchor(let anchor) = chain.insert(id: id, envoyName: insert.envoyName, at: insert.placement),
                   notedAnchors.insert(insert.name).inserted {
                    log.note(insert.place, "\(anchor) is not a filter this importer knows the place of; assumed just before the router")
                }
            }
            for (position, imported) in chain.importedInRunOrder.enumerated() {
                let insert = placed[imported.id]
                if imported.isAfterRouter, notedAfterRouter.insert(insert.name).inserted {
                    log.note(insert.place, "Envoy puts this filter after envoy.filters.http.router, where it never runs; Luxy runs it as the last imported stage")
                }
                var how = insert.placement.description
                if insert.order.resourcePriority != 0 { how += ", EnvoyFilter priority \(insert.order.resourcePriority)" }
                entries.append(.init(chain: chainName, name: insert.name,
                                     priority: ImportPriorities.priority(atRunPosition: position),
                                     origin: insert.place, placement: how))
            }
        }
        return entries
    }
}
