import Foundation
import LuxyConfig
import LuxyCore
import LuxyLua
import LuxyPlugins
import NIOCore
import NIOHTTP1

/// `LuaHTTPHost` over an in-memory exchange: the one part of the request path the harness
/// replaces. The VM, the scripts and `LuaHTTPStream` (every handle method) are production's.
/// Confined to the harness's event loop; completions that wait in production (`httpCall`)
/// come on a later tick here too, so a script's coroutine really yields.
final class InMemoryHTTPHost: LuaHTTPHost {
    let exchange: InMemoryExchange
    let request: TestHTTPRequest
    private let eventLoop: EventLoop
    let sideCalls: ScriptedSideCalls
    private(set) var logs: [RecordedLog] = []
    /// What the log phases wrote with `accessLog()`, kept instead of written.
    var accessLines: [RecordedAccessLine] = []
    /// The stage whose phase runs now: its file tags the log lines.
    var currentStage: PluginTestStage?
    /// When the request came, on the monotonic clock (`duration()`) and the wall clock (`startTime()`).
    let started = NIODeadline.now()
    let startedMilliseconds = Date().timeIntervalSince1970 * 1000

    init(request: TestHTTPRequest, eventLoop: EventLoop, configuredClusters: Set<String>) {
        self.exchange = InMemoryExchange(request)
        self.request = request
        self.eventLoop = eventLoop
        self.sideCalls = ScriptedSideCalls(answers: request.calls, eventLoop: eventLoop,
                                           configuredClusters: configuredClusters)
        self.streamInfo = LuaStreamInfo(
            protocolName: request.protocolName, downstreamLocalAddress: request.destination,
            downstreamRemoteAddress: request.source, direction: request.direction,
            requestedServerName: request.ssl?.serverName ?? "", routeName: request.routeName ?? "")
    }

    func headers(_ phase: LuaHTTPPhase) -> LuaHeaderMap {
        phase == .request
            ? InMemoryRequestHeaders(exchange: exchange,
                                     clearsRouteCache: currentStage?.configuration.clearRouteCache ?? true)
            : InMemoryResponseHeaders(exchange: exchange)
    }

    func trailers(_ phase: LuaHTTPPhase) -> LuaHeaderMap? {
        exchange.message(phase).trailers == nil ? nil : InMemoryTrailers(exchange: exchange, phase: phase)
    }

    func body(_ phase: LuaHTTPPhase, completion: @escaping (Result<[UInt8]?, LuaHostError>) -> Void) {
        completion(.success(exchange.message(phase).body))
    }

    func setBody(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) {
        exchange.update(phase) { message in
            message.body = bytes
            message.bodyChunks = nil
            message.headers.remove(name: "transfer-encoding")
            message.headers.replaceOrAdd(name: "content-length", value: String(bytes.count))
        }
    }

    // MARK: bodyChunks()

    private func cursor(_ phase: LuaHTTPPhase) -> BodyChunkCursor? {
        phase == .request ? exchange.requestChunks : exchange.responseChunks
    }

    private func setCursor(_ phase: LuaHTTPPhase, _ cursor: BodyChunkCursor?) {
        if phase == .request { exchange.requestChunks = cursor } else { exchange.responseChunks = cursor }
    }

    func nextBodyChunk(_ phase: LuaHTTPPhase, completion: @escaping (Result<Bool, LuaHostError>) -> Void) {
        let message = exchange.message(phase)
        var cursor = cursor(phase)
            ?? BodyChunkCursor(chunks: message.bodyChunks ?? message.body.map { $0.isEmpty ? [] : [$0] } ?? [])
        let more = cursor.advance()
        setCursor(phase, cursor)
        completion(.success(more))
    }

    func holdsBodyChunk(_ phase: LuaHTTPPhase) -> Bool { cursor(phase)?.held != nil }
    func bodyChunkLength(_ phase: LuaHTTPPhase) -> Int { cursor(phase)?.held?.count ?? 0 }
    func bodyChunkBytes(_ phase: LuaHTTPPhase) -> [UInt8] { cursor(phase)?.held ?? [] }

    func setBodyChunk(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) {
        guard var cursor = cursor(phase), cursor.held != nil else { return }
        cursor.held = bytes
        setCursor(phase, cursor)
    }

    /// What the script streamed becomes the body that goes on, without a declared length
    /// (the proxy sends a streamed body chunked).
    func stopBodyChunks(_ phase: LuaHTTPPhase) {
        guard var cursor = cursor(phase) else { return }
        let body = cursor.stop()
        setCursor(phase, nil)
        exchange.update(phase) { message in
            message.body = body
            message.bodyChunks = nil
            message.headers.remove(name: "content-length")
        }
    }

    // MARK: Side calls, replies, logs

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        sideCalls.call(cluster: cluster, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                       asynchronous: asynchronous, completion: completion)
    }

    func clusterExists(_ name: String) -> Bool {
        sideCalls.knows(name)
    }

    func respond(headers: [(String, String)], body: [UInt8]) {
        exchange.localReply = LocalReply(luaRespondHeaders: headers, body: body)
    }

    func log(_ level: LuaLogLevel, _ message: String) {
        logs.append(RecordedLog(level: level, message: message, plugin: currentStage?.chunkName ?? ""))
    }

    func continueLater(_ work: @escaping () -> Void) {
        eventLoop.continueLuaPhase(work)
    }

    // MARK: Stream facts

    let streamInfo: LuaStreamInfo
    var routeMetadata: ConfigValue { request.routeMetadata }
    var routeName: String? { request.routeName }
    var destinationService: String? { request.service }
    var clusterName: String? { request.cluster }
    var upstreamTarget: String? { request.upstream }
    var ssl: LuaSSLInfo? { request.ssl }
    var filterContext: ConfigValue? { request.filterContext }
    var attemptCount: Int { exchange.attemptCount }

    func clearRouteCache() {
        exchange.routeCleared = true
    }
}

@available(*, unavailable)
extension InMemoryHTTPHost: Sendable {}
