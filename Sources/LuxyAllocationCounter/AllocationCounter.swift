import Foundation
import NIOCore
import NIOPosix

/// `luxy-alloc-counter`: allocations per proxied request, counted in one process.
///
/// A client, Luxy and an upstream run side by side; `CAllocationCounter` counts every malloc
/// in the process. The client and upstream allocate nothing per request, and the `direct`
/// scenario (client straight to upstream) checks that, so what is counted is Luxy's. The count
/// is deterministic, unlike CPU time on a shared VM, which is why CI checks it against a
/// budget (Tests/LuxyIntegrationTests/AllocationBudgetTests.swift). Build it in release:
/// a debug build allocates differently.
///
///     swift run -c release luxy-alloc-counter [--requests N] [--warmup N] [SCENARIO...]
///
/// Prints one JSON object per scenario; exits 1 if any request fails.
@main
struct AllocationCounter {
    static func main() {
        do {
            let options = try Options(CommandLine.arguments.dropFirst())
            try run(options)
        } catch {
            FileHandle.standardError.write(Data("luxy-alloc-counter: \(error)\n".utf8))
            exit(1)
        }
    }

    private static func run(_ options: Options) throws {
        let upstream = try FixedUpstream.start()
        // One event loop: what `workers: 1` gives the bench.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The client's cost, taken off every proxied figure: always measured, printed if asked.
        let direct = try measure(.direct, upstream: upstream, group: group, options: options)
        if options.scenarios.contains(.direct) { print(direct.jsonLine) }
        for scenario in options.scenarios where scenario != .direct {
            var measurement = try measure(scenario, upstream: upstream, group: group, options: options)
            measurement.harnessAllocationsPerRequest = direct.rawAllocationsPerRequest
            print(measurement.jsonLine)
        }
        fflush(nil)
        try group.syncShutdownGracefully()
    }

    /// Runs the scenario's client on this thread, against a Luxy started for it if it needs one.
    private static func measure(_ scenario: Scenario, upstream: FixedUpstream, group: EventLoopGroup,
                                options: Options) throws -> Measurement {
        let luxy: InProcessLuxy? = if scenario.usesLuxy {
            try blocking(group) { try await InProcessLuxy.start(scenario: scenario, upstreamPort: upstream.port, group: group) }
        } else {
            nil
        }
        let client = try scenario.makeClient(port: luxy?.port ?? upstream.port)
        defer { client.close() }
        let measurement = try Measurement.run(scenario, client: client, warmup: options.warmup,
                                              requests: options.requests)
        if let luxy { try blocking(group) { await luxy.stop() } }
        return measurement
    }

    /// Waits on this (non-loop) thread for async work, such as starting Luxy, outside any count.
    private static func blocking<T: Sendable>(_ group: EventLoopGroup,
                                              _ work: @escaping @Sendable () async throws -> T) throws -> T {
        let promise = group.next().makePromise(of: T.self)
        promise.completeWithTask(work)
        return try promise.futureResult.wait()
    }
}
