import LuxyConfig

/// Which endpoint an attempt goes to: the one entry point every user of a cluster picks
/// through (exchanges, retries, `httpCall`, tcp listeners), so every policy skips endpoints
/// out of rotation and a failover skips those already tried.
extension UpstreamCluster {
    /// An endpoint for one attempt, not in `tried`, and in rotation unless the cluster panics
    /// (fewer than `healthy_panic_threshold` % in rotation: then all are used, as in Envoy).
    /// `hashKey` is `ring_hash`'s and `maglev`'s (`hashKey(for:peer:)`); without one, they pick
    /// at random.
    /// The attempt counts as active until `recordOutcome(of:_:)`.
    func pickPool(excluding tried: UpstreamEndpointSet = .none, hashKey: UInt64? = nil) -> UpstreamPick? {
        let count = pools.count
        guard count > 0 else { return nil }
        let index: Int?
        if unavailableCount == 0, tried.isEmpty, !isWeighted, config.loadBalancing == .roundRobin {
            // The common case, all healthy and a first attempt: plain rotation.
            next = (next + 1) % count
            index = next
        } else {
            let respectHealth = unavailableCount > 0 && !isPanicking
            index = choose(hashKey: hashKey) { candidate in
                !tried.contains(candidate) && (!respectHealth || health[candidate].isAvailable)
            }
        }
        guard let index else { return nil }
        health[index].activeRequests += 1
        return UpstreamPick(endpointIndex: index, pool: pools[index])
    }

    /// Too few endpoints in rotation to carry the load: health is ignored.
    var isPanicking: Bool {
        let available = pools.count - unavailableCount
        if available == 0 { return true }
        return available * 100 < config.healthyPanicThreshold * pools.count
    }

    private func choose(hashKey: UInt64?, _ accept: (Int) -> Bool) -> Int? {
        switch config.loadBalancing {
        case .roundRobin:
            return isWeighted ? smoothWeightedRoundRobin(accept) : roundRobin(accept)
        case .random:
            return weightedRandom(accept)
        case .leastRequest:
            return leastRequest(accept)
        case .ringHash:
            if let hashKey, let ring { return ring.endpoint(for: hashKey, where: accept) }
            return weightedRandom(accept)
        case .maglev:
            if let hashKey, let maglev { return maglev.endpoint(for: hashKey, where: accept) }
            return weightedRandom(accept)
        }
    }

    private func roundRobin(_ accept: (Int) -> Bool) -> Int? {
        for _ in 0..<pools.count {
            next = (next + 1) % pools.count
            if accept(next) { return next }
        }
        return nil
    }

    /// nginx's smooth weighted round robin: weights 5,1,1 give a a b a c a a, not a a a a a b c.
    private func smoothWeightedRoundRobin(_ accept: (Int) -> Bool) -> Int? {
        var best: Int?
        var total = 0
        for index in 0..<pools.count where accept(index) {
            let weight = config.endpoints[index].weight
            currentWeights[index] += weight
            total += weight
            if best.map({ currentWeights[index] > currentWeights[$0] }) ?? true { best = index }
        }
        if let best { currentWeights[best] -= total }
        return best
    }

    private func weightedRandom(_ accept: (Int) -> Bool) -> Int? {
        var total = 0
        for index in 0..<pools.count where accept(index) { total += config.endpoints[index].weight }
        guard total > 0 else { return nil }
        var point = Int.random(in: 0..<total, using: &random)
        for index in 0..<pools.count where accept(index) {
            point -= config.endpoints[index].weight
            if point < 0 { return index }
        }
        return nil
    }

    /// Power of two choices (Envoy's `least_request`): two endpoints at random, the one with
    /// fewer active requests per unit of weight wins. Near-best balance without scanning.
    private func leastRequest(_ accept: (Int) -> Bool) -> Int? {
        guard let first = randomAccepted(accept) else { return nil }
        // Two different endpoints where there are two: with two endpoints, always compared.
        guard let second = randomAccepted({ $0 != first && accept($0) }) else { return first }
        // (active + 1) / weight compared without division.
        let firstLoad = (health[first].activeRequests + 1) * config.endpoints[second].weight
        let secondLoad = (health[second].activeRequests + 1) * config.endpoints[first].weight
        return secondLoad < firstLoad ? second : first
    }

    /// A random endpoint, or the next accepted one after it: no array of candidates is built.
    private func randomAccepted(_ accept: (Int) -> Bool) -> Int? {
        let count = pools.count
        let start = Int.random(in: 0..<count, using: &random)
        for step in 0..<count {
            let index = (start + step) % count
            if accept(index) { return index }
        }
        return nil
    }
}
