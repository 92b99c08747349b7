/// A model of one Envoy HTTP filter chain (a sidecar's inbound or outbound one) that patches
/// are applied to in Istio's order, to learn the order Envoy would run the imported filters in.
///
/// Istio's own filters are modelled only as far as patches can refer to them: the
/// authentication and authorization filters `filterClass` is relative to, the stats filter,
/// and the router, which ends the chain. A sub-filter this model does not know is assumed to
/// sit just before the router (the caller notes that).
struct EnvoyHTTPFilterChain: Sendable {
    static let router = "envoy.filters.http.router"
    /// Envoy's pre-1.14 names for the router, still accepted in older EnvoyFilters.
    static let routerAliases: Set<String> = [router, "envoy.router"]

    enum Slot: Sendable, Equatable {
        case istio(String)
        /// Where `filterClass` puts filters: the end of the class's group.
        case classEnd(EnvoyFilterPlacement.FilterClass)
        case imported(id: Int, envoyName: String)
    }

    enum InsertOutcome: Sendable, Equatable {
        case placed
        /// The anchor was not known and was assumed to sit just before the router.
        case assumedAnchor(String)
    }

    private(set) var slots: [Slot] = [
        .istio("envoy.filters.http.jwt_authn"), .istio("istio_authn"), .classEnd(.authn),
        .istio("envoy.filters.http.rbac"), .classEnd(.authz),
        .classEnd(.stats), .istio("istio.stats"),
        .istio(router),
    ]

    mutating func insert(id: Int, envoyName: String, at placement: EnvoyFilterPlacement) -> InsertOutcome {
        let slot = Slot.imported(id: id, envoyName: envoyName)
        switch placement {
        case .first:
            slots.insert(slot, at: 0)
        case .last:
            slots.append(slot)
        case .filterClass(let filterClass):
            let index = slots.firstIndex(of: .classEnd(filterClass)) ?? routerIndex
            slots.insert(slot, at: index)
        case .before(let anchor), .after(let anchor):
            var outcome = InsertOutcome.placed
            var index = self.index(of: anchor)
            if index == nil {
                slots.insert(.istio(anchor), at: routerIndex)
                index = self.index(of: anchor)
                outcome = .assumedAnchor(anchor)
            }
            let position = index ?? routerIndex
            if case .after = placement {
                slots.insert(slot, at: position + 1)
            } else {
                slots.insert(slot, at: position)
            }
            return outcome
        }
        return .placed
    }

    /// The imported filters in the order Envoy runs them on a request, each with whether
    /// it ended up after the router (where Envoy never runs it).
    var importedInRunOrder: [ImportedPosition] {
        var afterRouter = false
        var result: [ImportedPosition] = []
        for slot in slots {
            switch slot {
            case .istio(let name) where Self.routerAliases.contains(name):
                afterRouter = true
            case .imported(let id, _):
                result.append(ImportedPosition(id: id, isAfterRouter: afterRouter))
            default:
                continue
            }
        }
        return result
    }

    struct ImportedPosition: Sendable, Equatable {
        var id: Int
        var isAfterRouter: Bool
    }

    private var routerIndex: Int {
        slots.firstIndex { if case .istio(let name) = $0 { Self.routerAliases.contains(name) } else { false } }
            ?? slots.count
    }

    /// The first filter of that name, as Istio's insertBeforeFunc/insertAfterFunc match the
    /// first one. The router's old name finds the router.
    private func index(of name: String) -> Int? {
        let names: Set<String> = Self.routerAliases.contains(name) ? Self.routerAliases : [name]
        return slots.firstIndex { slot in
            switch slot {
            case .istio(let istio): names.contains(istio)
            case .imported(_, let envoyName): names.contains(envoyName)
            case .classEnd: false
            }
        }
    }
}
