import LuxyConfig

/// Envoy config without Istio around it: one HTTP filter (`name:` + `typed_config:`), or
/// an `http_filters:` list in the order Envoy runs it.
extension EnvoyFilterImporter {
    mutating func bareFilterList(_ list: LocatedNode) {
        guard list.isSequence else {
            badInput(list, "http_filters must be a list of filters")
            return
        }
        bareFilters(list.elements)
    }

    /// Filters listed in run order go before the router in that order; a Lua filter listed
    /// after the router would never run in Envoy, and is placed last to say so.
    mutating func bareFilters(_ filters: [LocatedNode]) {
        var afterRouter = false
        for (index, filter) in filters.enumerated() {
            let value = EnvoyHTTPFilterValue(filter)
            let name = filter.child("name")?.string ?? ""
            if EnvoyHTTPFilterChain.routerAliases.contains(name) {
                afterRouter = true
                continue
            }
            switch value {
            case .lua(let config, let envoyName):
                guard let code = luaCode(config) else { continue }
                log.note(filter.place, "a bare Envoy filter has no direction: imported into inbound-http and outbound-http")
                // A generic filter name says nothing; the file's name says more.
                let wanted = EnvoyHTTPFilterValue.luaFilterNames.contains(envoyName) || envoyName.isEmpty ? fileStem : envoyName
                let order = ApplicationOrder(resourcePriority: 0, document: filter.place.document, patch: index)
                inserts.append(LuaFilterInsert(
                    name: names.claim(wanted), envoyName: envoyName, chains: [.inboundHTTP, .outboundHTTP],
                    placement: afterRouter ? .last : .before(EnvoyHTTPFilterChain.router), order: order, code: code,
                    place: filter.place))
            case .luaPerRoute:
                log.notImported(filter.place, "a LuaPerRoute config belongs on a route, not in http_filters; skipped")
            case .other(let otherName, let type):
                let what = type.map { "\(otherName) (\($0))" } ?? otherName
                log.note(filter.place, "HTTP filter \(what) is not a Lua filter; skipped\(Self.hint(forFilter: otherName, type: type))")
            case .absent:
                badInput(filter, "an HTTP filter needs a name:")
            }
        }
    }
}
