/// Where a patch puts its filter in Envoy's HTTP filter chain, read from `patch.operation`,
/// `patch.filterClass` and `match.listener.filterChain.filter.subFilter.name` the way
/// Istio's `patchHTTPFilters` applies them.
enum EnvoyFilterPlacement: Sendable, Equatable, CustomStringConvertible {
    /// `INSERT_FIRST`, or `INSERT_BEFORE` without a sub-filter to insert before.
    case first
    case before(String)
    case after(String)
    /// `ADD`, or `INSERT_AFTER` without a sub-filter: the end of the list, after the router.
    case last
    /// `filterClass`: Istio puts the filter after its authentication or authorization
    /// filters, or before its stats filter.
    case filterClass(FilterClass)

    enum FilterClass: String, Sendable, Equatable, CaseIterable {
        case authn = "AUTHN"
        case authz = "AUTHZ"
        case stats = "STATS"
    }

    var description: String {
        switch self {
        case .first: "first in the chain"
        case .before(let name): "before \(name)"
        case .after(let name): "after \(name)"
        case .last: "last in the chain (after the router)"
        case .filterClass(let filterClass): "filterClass \(filterClass.rawValue)"
        }
    }
}
