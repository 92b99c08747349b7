/// Luxy priorities for imported filters. Higher runs first on requests (and last on
/// responses), as Envoy runs a chain's filters front to back on requests and back to front
/// on responses; so the first imported filter in Envoy's order gets `first`, each later one
/// `step` less.
///
/// 100 keeps imported stages below Luxy's built-in `request-id` (150) and `access-log`
/// (200): Envoy's HTTP connection manager sets `x-request-id` and logs around every HTTP
/// filter, so those run first in Luxy too. The step of 10 leaves room to place stages of
/// one's own between imported ones.
enum ImportPriorities {
    static let first = 100
    static let step = 10

    static func priority(atRunPosition position: Int) -> Int {
        first - step * position
    }
}
