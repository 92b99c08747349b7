/// The order Istio applies patches in: EnvoyFilter resources by `spec.priority` (lower
/// first, default 0), then by creation time — which a file does not have, so the order of
/// the documents stands in for it — then each resource's patches in order.
struct ApplicationOrder: Sendable, Comparable {
    var resourcePriority: Int
    var document: Int
    var patch: Int

    static func < (lhs: ApplicationOrder, rhs: ApplicationOrder) -> Bool {
        (lhs.resourcePriority, lhs.document, lhs.patch) < (rhs.resourcePriority, rhs.document, rhs.patch)
    }
}
