import Foundation
import NIOCore
import NIOPosix

/// `luxy test`: finds the `*_test.lua` files under the given paths and runs them one after
/// another on one NIO event loop (one thread, no sockets), so yields, budgets, slices and
/// timers behave as in the proxy. Thread-safe to call; the work itself is confined to the loop.
public struct PluginTestRunner: Sendable {
    public let paths: [String]

    public init(paths: [String]) {
        self.paths = paths
    }

    /// The test files under `paths` (a file is taken as it is), sorted, each once.
    public func testFiles() throws(PluginTestDiscoveryError) -> [String] {
        try PluginTestDiscovery.files(under: paths)
    }

    /// Runs `files`; `progress` hears each result as it comes (on the loop's thread).
    public func run(files: [String], progress: @escaping @Sendable (PluginTestCaseResult) -> Void) async throws
        -> PluginTestReport
    {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let started = NIODeadline.now()
        let promise = loop.makePromise(of: [PluginTestCaseResult].self)
        loop.execute {
            let collector = PluginTestSequence(files: files, eventLoop: loop, progress: progress) { results in
                promise.succeed(results)
            }
            collector.next()
        }
        let results = try await promise.futureResult.get()
        try await group.shutdownGracefully()
        return PluginTestReport(results: results, seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9)
    }
}

/// The files of one run, one after another. Confined to the loop.
private final class PluginTestSequence {
    private var files: ArraySlice<String>
    private let eventLoop: EventLoop
    private let progress: (PluginTestCaseResult) -> Void
    private let completion: ([PluginTestCaseResult]) -> Void
    private var results: [PluginTestCaseResult] = []
    private var current: PluginTestFileRun?

    init(files: [String], eventLoop: EventLoop, progress: @escaping (PluginTestCaseResult) -> Void,
         completion: @escaping ([PluginTestCaseResult]) -> Void) {
        self.files = files[...]
        self.eventLoop = eventLoop
        self.progress = progress
        self.completion = completion
    }

    func next() {
        guard let file = files.popFirst() else {
            current = nil
            return completion(results)
        }
        let run = PluginTestFileRun(file: file, eventLoop: eventLoop, report: { [self] result in
            results.append(result)
            progress(result)
        }, completion: { [self] in
            eventLoop.assumeIsolated().execute { [self] in next() }
        })
        current = run
        run.start()
    }
}

@available(*, unavailable)
extension PluginTestSequence: Sendable {}

/// Every result of a run. A value, handed from the loop to the command.
public struct PluginTestReport: Sendable {
    public var results: [PluginTestCaseResult]
    public var seconds: Double

    public var passed: Int { results.filter(\.passed).count }
    public var failed: Int { results.count - passed }

    /// `N passed, M failed`.
    public var summaryLine: String {
        "\(passed) passed, \(failed) failed"
    }
}
