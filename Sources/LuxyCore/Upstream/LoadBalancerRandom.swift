/// The random source of `random`, `least_request` and the hash policies' key-less fallback:
/// SplitMix64, seeded once from the system. `Int.random(in:)` alone draws from
/// `SystemRandomNumberGenerator`, which on Linux is a `getrandom(2)` system call per draw;
/// picking an endpoint needs spread, not secrecy, so the request path makes no system call
/// for it. Never used for anything secret.
///
/// Loop-confined: a value inside its `UpstreamCluster`.
struct LoadBalancerRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64 = UInt64.random(in: .min ... .max)) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }
}
