import LuxyLua
import NIOCore

/// The side calls (`httpCall`) of one test request or connection: each is recorded and gets
/// the test's scripted answer on a later tick of the loop, so the script's coroutine waits as
/// it would for a real cluster. Confined to the harness's loop.
final class ScriptedSideCalls {
    private var answers: ScriptedCalls
    private let eventLoop: EventLoop
    /// Clusters of the loaded config (empty for a single plugin): scripts may name them.
    private let configuredClusters: Set<String>
    private(set) var recorded: [RecordedCall] = []

    init(answers: ScriptedCalls, eventLoop: EventLoop, configuredClusters: Set<String>) {
        self.answers = answers
        self.eventLoop = eventLoop
        self.configuredClusters = configuredClusters
    }

    func call(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
              asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        recorded.append(RecordedCall(cluster: cluster, headers: headers.map { LuaHeaderField(name: $0.0, value: $0.1) },
                                     body: body, timeoutMilliseconds: timeoutMilliseconds, asynchronous: asynchronous))
        let answer = answers.answer(cluster)
        guard !asynchronous else { return }
        eventLoop.assumeIsolated().execute { completion(.success(answer)) }
    }

    func knows(_ cluster: String) -> Bool {
        answers.knows(cluster, configured: configuredClusters)
    }
}

@available(*, unavailable)
extension ScriptedSideCalls: Sendable {}
