import LuxyConfig

/// `maglev`'s lookup table (Google's Maglev, as Envoy's `MAGLEV`): `table_size` entries, a
/// prime, filled by each endpoint in turn along its own permutation of the table (an offset
/// and a skip from the hash of its address), as often as its weight says. A key goes to the
/// entry at `key % table_size`: one array read per request, and every endpoint owns an even
/// share of the entries (balance), while an endpoint that leaves takes little more than its
/// own entries with it (minimal remapping).
///
/// Endpoints out of rotation are not rebuilt out of the table: a lookup whose entry is not
/// accepted walks on to the following entries, which are endpoints in a weighted
/// pseudo-random order, so only the keys of the endpoint skipped move, as with `ring_hash`.
///
/// Built once per cluster and event loop, when the cluster (its endpoint set) is made;
/// immutable afterwards.
struct MaglevTable {
    /// Endpoint index per entry.
    let entries: [UInt32]
    private let endpointCount: Int

    init(endpoints: [ClusterConfiguration.Endpoint], tableSize: Int) {
        precondition(tableSize > 1, "a Maglev table needs at least two entries")
        endpointCount = endpoints.count
        guard !endpoints.isEmpty else {
            entries = []
            return
        }
        let size = UInt64(tableSize)
        var builders = endpoints.map { endpoint -> PermutationCursor in
            // Named by address, not index: removing one endpoint leaves the others' permutations.
            let name = endpoint.description
            return PermutationCursor(offset: ConsistentHashRing.hash("\(name)#offset") % size,
                                     skip: ConsistentHashRing.hash("\(name)#skip") % (size - 1) + 1,
                                     weight: endpoint.weight)
        }
        let maxWeight = endpoints.map(\.weight).max() ?? 1
        let empty = UInt32.max
        var table = [UInt32](repeating: empty, count: tableSize)
        var filled = 0
        var round = 1
        // Envoy's weighted fill: an endpoint of the largest weight takes an entry every round,
        // one of a third of it every third round.
        while filled < tableSize {
            for index in builders.indices where filled < tableSize {
                guard round * builders[index].weight >= builders[index].targetWeight else { continue }
                builders[index].targetWeight += maxWeight
                var slot = builders[index].nextSlot(size)
                while table[slot] != empty { slot = builders[index].nextSlot(size) }
                table[slot] = UInt32(index)
                filled += 1
            }
            round += 1
        }
        entries = table
    }

    /// The endpoint for `key`: its entry's, or when `accept` refuses that one, the first
    /// accepted endpoint in the entries that follow; nil when none is accepted.
    func endpoint(for key: UInt64, where accept: (Int) -> Bool) -> Int? {
        guard !entries.isEmpty else { return nil }
        let start = Int(key % UInt64(entries.count))
        // The following entries are near-random endpoints: a few per endpoint find an accepted
        // one unless almost all are refused; then a scan of the endpoints decides.
        let probes = min(entries.count, 16 * endpointCount)
        for step in 0..<probes {
            let index = Int(entries[(start + step) % entries.count])
            if accept(index) { return index }
        }
        let first = Int(entries[start])
        for step in 0..<endpointCount {
            let index = (first + step) % endpointCount
            if accept(index) { return index }
        }
        return nil
    }

    /// One endpoint's walk through the table while it is built.
    private struct PermutationCursor {
        let offset: UInt64
        let skip: UInt64
        let weight: Int
        /// The round figure it must reach before it takes its next entry.
        var targetWeight = 0
        var step: UInt64 = 0

        mutating func nextSlot(_ size: UInt64) -> Int {
            // (offset + skip × step) mod size, without overflow for any table size.
            let slot = (offset + (skip * (step % size)) % size) % size
            step += 1
            return Int(slot)
        }
    }
}
