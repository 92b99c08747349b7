import LuxyConfig

/// `ring_hash`'s ring (Ketama, as Envoy's): each endpoint owns points on a 64-bit circle in
/// proportion to its weight; a key goes to the first point at or after its hash. An endpoint
/// that leaves takes only its own points' keys with it (about 1/n of them), which move to
/// the next point clockwise. Built once per cluster; immutable, so shared freely on its loop.
struct ConsistentHashRing {
    struct Point {
        let hash: UInt64
        let endpointIndex: Int
    }

    /// Points per unit of weight (ketama's 160). Fixed, not scaled to a ring size as Envoy's
    /// `minimum_ring_size` does: then removing an endpoint changes nobody else's points, and
    /// only its own keys move.
    static let pointsPerWeight = 160

    let points: [Point]

    init(endpoints: [ClusterConfiguration.Endpoint]) {
        let totalWeight = endpoints.reduce(0) { $0 + $1.weight }
        let perWeight = Self.pointsPerWeight
        var points: [Point] = []
        points.reserveCapacity(perWeight * totalWeight)
        for (index, endpoint) in endpoints.enumerated() {
            // Named by address, not index: removing one endpoint leaves the others' points.
            let name = endpoint.description
            for replica in 0..<(perWeight * endpoint.weight) {
                points.append(Point(hash: Self.hash("\(name)_\(replica)"), endpointIndex: index))
            }
        }
        points.sort { $0.hash < $1.hash }
        self.points = points
    }

    /// The endpoints in ring order from `key`'s point: the first for which `accept` is true
    /// wins; nil when none is.
    func endpoint(for key: UInt64, where accept: (Int) -> Bool) -> Int? {
        guard !points.isEmpty else { return nil }
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle].hash < key { low = middle + 1 } else { high = middle }
        }
        for step in 0..<points.count {
            let index = points[(low + step) % points.count].endpointIndex
            if accept(index) { return index }
        }
        return nil
    }

    /// FNV-1a, then a 64-bit finaliser (MurmurHash3's) so nearby strings spread over the ring.
    /// Stable across processes, unlike `Hasher`, so a key sticks to its endpoint over restarts.
    static func hash<Bytes: Sequence>(bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        value ^= value >> 33
        value &*= 0xff51_afd7_ed55_8ccd
        value ^= value >> 33
        value &*= 0xc4ce_b9fe_1a85_ec53
        value ^= value >> 33
        return value
    }

    static func hash(_ text: String) -> UInt64 { hash(bytes: text.utf8) }
}
