import CAllocationCounter
import Foundation

/// The counts of one scenario's measured requests, and their JSON line.
struct Measurement {
    var scenario: Scenario
    var requests: Int
    var allocations: Int64
    var frees: Int64
    var reallocations: Int64
    /// What the client and upstream allocate per request on their own (the `direct`
    /// scenario), taken off `allocations` for the proxied scenarios.
    var harnessAllocationsPerRequest: Double = 0

    /// Warms the path up with `warmup` requests (connections, pools, lazily built state, Lua
    /// caches), then counts the process's allocations over exactly `requests` more. The
    /// counters are read on this thread as soon as the last response is in, so only what
    /// Luxy does during the requests (and whatever timer fires meanwhile) is counted.
    static func run(_ scenario: Scenario, client: RequestClient, warmup: Int, requests: Int) throws -> Measurement {
        for _ in 0..<warmup { try client.roundTrip() }
        luxy_alloc_reset()
        for _ in 0..<requests { try client.roundTrip() }
        let allocations = luxy_alloc_count()
        let frees = luxy_free_count()
        let reallocations = luxy_realloc_count()
        return Measurement(scenario: scenario, requests: requests, allocations: allocations, frees: frees,
                           reallocations: reallocations)
    }

    var rawAllocationsPerRequest: Double { Double(allocations) / Double(requests) }

    var allocationsPerRequest: Double { max(0, rawAllocationsPerRequest - harnessAllocationsPerRequest) }

    var jsonLine: String {
        let fields: [(String, String)] = [
            ("scenario", "\"\(scenario.rawValue)\""),
            ("requests", "\(requests)"),
            ("allocations_per_request", Self.format(allocationsPerRequest)),
            ("frees_per_request", Self.format(Double(frees) / Double(requests))),
            ("reallocations_per_request", Self.format(Double(reallocations) / Double(requests))),
            ("raw_allocations_per_request", Self.format(rawAllocationsPerRequest)),
            ("harness_allocations_per_request", Self.format(harnessAllocationsPerRequest)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}
