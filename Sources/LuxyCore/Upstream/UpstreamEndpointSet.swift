/// Endpoints of one cluster by index, as a bit set: those one request already tried, so a
/// failover or a retry goes elsewhere. A value on the stack; no allocation per request.
/// Indices past 63 are never in the set (a cluster that large may try one endpoint twice).
struct UpstreamEndpointSet: Equatable {
    private var bits: UInt64 = 0

    static let none = UpstreamEndpointSet()

    func contains(_ index: Int) -> Bool {
        index < 64 && bits & (1 << UInt64(index)) != 0
    }

    mutating func insert(_ index: Int) {
        if index < 64 { bits |= 1 << UInt64(index) }
    }

    var isEmpty: Bool { bits == 0 }
    var count: Int { bits.nonzeroBitCount }
}
