import LuxyLua
import LuxyPlugins
import NIOCore

/// `LuaTCPHost` for a test connection: the addresses the test gave, scripted `httpCall`
/// answers, logs kept. Confined to the harness's loop.
final class InMemoryTCPHost: LuaTCPHost {
    let sourceAddress: String
    let destinationAddress: String
    let upstreamAddress: String?
    let peerIdentity: String?
    let direction: String
    let clusterName: String
    private let eventLoop: EventLoop
    let sideCalls: ScriptedSideCalls
    private(set) var logs: [RecordedLog] = []

    init(connection: TestTCPConnection, eventLoop: EventLoop, configuredClusters: Set<String>) {
        sourceAddress = connection.source
        destinationAddress = connection.destination
        upstreamAddress = connection.upstream
        peerIdentity = connection.identity
        direction = connection.direction
        clusterName = connection.cluster
        sideCalls = ScriptedSideCalls(answers: connection.calls, eventLoop: eventLoop, configuredClusters: configuredClusters)
        self.eventLoop = eventLoop
    }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        sideCalls.call(cluster: cluster, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                       asynchronous: asynchronous, completion: completion)
    }

    func continueLater(_ work: @escaping () -> Void) {
        eventLoop.continueLuaPhase(work)
    }

    func log(_ level: LuaLogLevel, _ message: String, script: String) {
        logs.append(RecordedLog(level: level, message: message, plugin: script))
    }
}

@available(*, unavailable)
extension InMemoryTCPHost: Sendable {}

/// The connection a test opens through a tcp plugin or chain. A value.
struct TestTCPConnection {
    var source = "10.0.0.1:40000"
    var destination = "10.0.0.2:9000"
    var upstream: String? = "10.0.0.3:9000"
    var identity: String?
    var direction = "inbound"
    var cluster = "backend"
    var calls = ScriptedCalls()
}
