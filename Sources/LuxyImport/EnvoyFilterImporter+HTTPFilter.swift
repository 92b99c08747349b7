import LuxyConfig

/// `applyTo: HTTP_FILTER` patches: the Lua filter inserts this importer maps, and the
/// reasons for skipping the rest.
extension EnvoyFilterImporter {
    static let insertOperations: Set<String> = ["INSERT_BEFORE", "INSERT_AFTER", "INSERT_FIRST", "ADD"]
    static let connectionManagerNames: Set<String> = [
        "envoy.filters.network.http_connection_manager", "envoy.http_connection_manager",
    ]

    mutating func httpFilterPatch(_ patch: LocatedNode, body: LocatedNode, operation: String,
                                  filter: EnvoyHTTPFilterValue, resourceName: String, order: ApplicationOrder) {
        let operationPlace = body.child("operation")?.place ?? body.place
        switch filter {
        case .lua(let config, let envoyName):
            guard Self.insertOperations.contains(operation) else {
                log.notImported(operationPlace, "patch.operation \(operation) is not a Lua filter insert; skipped")
                return
            }
            guard let chains = luxyChains(for: patch.child("match"), at: patch.place) else { return }
            let placement = envoyPlacement(operation: operation, body: body, match: patch.child("match"))
            guard let code = luaCode(config) else { return }
            let name = names.claim(resourceName)
            inserts.append(LuaFilterInsert(name: name, envoyName: envoyName, chains: chains, placement: placement,
                                           order: order, code: code, place: patch.place))
        case .luaPerRoute:
            log.notImported(patch.place, "a LuaPerRoute config belongs on a route (HTTP_ROUTE), not in the filter chain; skipped")
        case .other(let name, let type):
            let what = type.map { "\(name) (\($0))" } ?? name
            log.note(patch.place, "HTTP filter \(what) is not a Lua filter; skipped\(Self.hint(forFilter: name, type: type))")
        case .absent:
            log.note(operationPlace, "patch.operation \(operation) without a filter value is not a Lua filter insert; skipped")
        }
    }

    /// A pointer for filters Luxy users usually rebuild in Lua.
    static func hint(forFilter name: String, type: String?) -> String {
        let text = name + " " + (type ?? "")
        if text.contains("ext_authz") {
            return " (a Lua stage that calls the authorization service with httpCall does the same; see examples/token-auth)"
        }
        if text.contains("wasm") { return " (Luxy runs Lua plugins only)" }
        return ""
    }

    /// The Luxy chains for `match.context`, noting every match condition Luxy has no
    /// equivalent of. Nil when the patch cannot apply to an HTTP chain at all.
    mutating func luxyChains(for match: LocatedNode?, at place: InputPlace) -> [ChainName]? {
        guard let match else {
            log.note(place, "no match: Istio applies it in every context; imported into inbound-http and outbound-http")
            return [.inboundHTTP, .outboundHTTP]
        }
        var chains: [ChainName] = [.inboundHTTP, .outboundHTTP]
        for (key, value) in match.entries {
            switch key {
            case "context":
                switch value.string ?? "" {
                case "SIDECAR_INBOUND":
                    chains = [.inboundHTTP]
                case "SIDECAR_OUTBOUND":
                    chains = [.outboundHTTP]
                case "GATEWAY":
                    log.note(value.place, "context GATEWAY: a gateway proxies to services as a sidecar's outbound side does; imported into outbound-http")
                    chains = [.outboundHTTP]
                case "ANY":
                    log.note(value.place, "context ANY: imported into inbound-http and outbound-http")
                default:
                    log.note(value.place, "context \(value.string ?? "?") is not one Istio defines; imported into inbound-http and outbound-http")
                }
            case "listener":
                listenerMatch(value)
            case "proxy":
                log.note(value.place, "match.proxy (proxy version and node metadata) not mapped; the filter is imported unconditionally")
            case "routeConfiguration", "route_configuration", "cluster":
                log.note(value.place, "match.\(key) does not select an HTTP filter chain; ignored")
            default:
                log.note(value.place, "match.\(key) is not a match field this importer knows; ignored")
            }
        }
        if match.child("context") == nil {
            log.note(match.place, "no match.context: Istio applies it in every context; imported into inbound-http and outbound-http")
        }
        return chains
    }

    /// `match.listener`: Luxy's chains are per direction, not per listener, port or filter chain.
    private mutating func listenerMatch(_ listener: LocatedNode) {
        for (key, value) in listener.entries {
            switch key {
            case "filterChain", "filter_chain":
                for (field, condition) in value.entries {
                    if field == "filter" {
                        if let name = condition.child("name")?.string, !Self.connectionManagerNames.contains(name) {
                            log.note(condition.place, "filter \(name) is not the HTTP connection manager; imported as an HTTP filter anyway")
                        }
                    } else {
                        log.note(condition.place, "match.listener.filterChain.\(field) not mapped: Luxy's chains run on every filter chain of their direction")
                    }
                }
            case "portNumber", "port_number":
                log.note(value.place, "match.listener.portNumber \(value.string ?? "?") not mapped: a Luxy chain runs on every listener of its direction (route by service with the stage's services: instead)")
            default:
                log.note(value.place, "match.listener.\(key) not mapped: a Luxy chain runs on every listener of its direction")
            }
        }
    }

    /// Where the patch puts the filter, as Istio reads operation, filterClass and sub-filter.
    mutating func envoyPlacement(operation: String, body: LocatedNode, match: LocatedNode?) -> EnvoyFilterPlacement {
        if let classNode = body.child("filterClass"), let text = classNode.string, text != "UNSPECIFIED" {
            if let filterClass = EnvoyFilterPlacement.FilterClass(rawValue: text) { return .filterClass(filterClass) }
            log.note(classNode.place, "filterClass \(text) is not AUTHN, AUTHZ or STATS; ignored")
        }
        let subFilter = match?.child("listener")?.child("filterChain")?.child("filter")?.child("subFilter")?.child("name")?.string
        switch (operation, subFilter) {
        case ("INSERT_FIRST", _), ("INSERT_BEFORE", nil): return .first
        case ("INSERT_BEFORE", let anchor?): return .before(anchor)
        case ("INSERT_AFTER", let anchor?): return .after(anchor)
        default: return .last
        }
    }
}
