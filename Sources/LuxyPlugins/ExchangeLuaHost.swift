import Foundation
import Logging
import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore
import NIOHTTP1

/// `LuaHTTPHost` over the core's `HTTPExchange`: the one place where Lua handles meet
/// requests on the wire.
final class ExchangeLuaHost: LuaHTTPHost {
    /// The exchange it serves; none while the host waits in its pool between requests.
    private var boundExchange: HTTPExchange?

    /// Asked only while a request runs: host calls come from its phases, and a finished
    /// stream makes none. Lent, not returned: a host call reads a field or two of it, and a
    /// returned reference cost a retain and a release each time.
    var exchange: HTTPExchange {
        _read {
            guard boundExchange != nil else { preconditionFailure("the Lua host is not bound to a request") }
            yield boundExchange.unsafelyUnwrapped
        }
    }
    /// The stage whose phase started last (`enter`): its logger names the script's file in
    /// log lines, its slot name keys `per_stage:` entries. Unowned, with no retain and release
    /// per phase: the request's route selection holds its stages until the request ended and
    /// this host was unbound (`unbind` clears it).
    private(set) unowned(unsafe) var currentStage: LuaStage?
    /// The current stage's `clear_route_cache`, kept beside it: every `headers()` of a request
    /// phase reads it, without loading the stage.
    private var clearsRouteCache = true
    /// The loop's access-log batches (`accessLog()`).
    var accessLog: LoopAccessLog?

    var filterContext: ConfigValue? {
        currentStage.flatMap { exchange.route?.stageOverrides[$0.name]?.context }
    }

    init(exchange: HTTPExchange) {
        self.boundExchange = exchange
    }

    func headers(_ phase: LuaHTTPPhase) -> LuaHeaderMap {
        phase == .request
            ? RequestHeaderMap(exchange: exchange,
                               clearsRouteCache: clearsRouteCache)
            : ResponseHeaderMap(exchange: exchange)
    }

    func trailers(_ phase: LuaHTTPPhase) -> LuaHeaderMap? {
        let trailers = phase == .request ? exchange.requestTrailers : exchange.responseTrailers
        guard trailers != nil else { return nil }
        return TrailerMap(exchange: exchange, phase: phase)
    }

    func body(_ phase: LuaHTTPPhase, completion: @escaping (Result<[UInt8]?, LuaHostError>) -> Void) {
        let deliver: (Result<ByteBuffer?, HTTPExchange.BodyError>) -> Void = { result in
            switch result {
            case .success(let buffer):
                completion(.success(buffer.map { Array($0.readableBytesView) }))
            case .failure(let error):
                completion(.failure(LuaHostError(error.description)))
            }
        }
        if phase == .request {
            exchange.requestBody(deliver)
        } else {
            exchange.responseBody(deliver)
        }
    }

    func setBody(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) {
        let buffer = ByteBuffer(bytes: bytes)
        if phase == .request {
            exchange.setRequestBody(buffer)
        } else {
            exchange.setResponseBody(buffer)
        }
    }

    func nextBodyChunk(_ phase: LuaHTTPPhase, completion: @escaping (Result<Bool, LuaHostError>) -> Void) {
        exchange.nextBodyChunk(phase.side) { step in
            switch step {
            case .chunk: completion(.success(true))
            case .end: completion(.success(false))
            case .failed(let error): completion(.failure(LuaHostError(error.description)))
            }
        }
    }

    func holdsBodyChunk(_ phase: LuaHTTPPhase) -> Bool {
        exchange.heldBodyChunk(phase.side) != nil
    }

    func bodyChunkLength(_ phase: LuaHTTPPhase) -> Int {
        exchange.heldBodyChunk(phase.side)?.readableBytes ?? 0
    }

    func bodyChunkBytes(_ phase: LuaHTTPPhase) -> [UInt8] {
        exchange.heldBodyChunk(phase.side).map { Array($0.readableBytesView) } ?? []
    }

    func setBodyChunk(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) {
        exchange.replaceHeldBodyChunk(phase.side, with: ByteBuffer(bytes: bytes))
    }

    func stopBodyChunks(_ phase: LuaHTTPPhase) {
        exchange.stopBodyChunks(phase.side)
    }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        LuaHTTPCallBridge.call(headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                               asynchronous: asynchronous, completion: completion) { [exchange] head, body, timeout, done in
            exchange.httpCall(cluster: cluster, head: head, body: body, timeout: timeout, completion: done)
        }
    }

    func clusterExists(_ name: String) -> Bool {
        exchange.hasCluster(name)
    }

    func respond(headers: [(String, String)], body: [UInt8]) {
        exchange.localReply = LocalReply(luaRespondHeaders: headers, body: body)
    }

    func continueLater(_ work: @escaping () -> Void) {
        exchange.eventLoop.continueLuaPhase(work)
    }

    func log(_ level: LuaLogLevel, _ message: String) {
        (currentStage?.logger ?? Logger(label: "luxy.lua")).log(level: level.loggerLevel, "\(message)")
    }

    /// Two fields of the stream info read alone (`h:direction()`, `h:protocol()`), with no
    /// stream info made.
    var direction: String { exchange.direction.rawValue }
    var protocolName: String { Self.protocolName(exchange.requestHead.version) }
    /// The connection's addresses are formatted once per connection, not per request.
    var downstreamRemoteAddress: String {
        exchange.forwardedClient?.envoyDescription ?? exchange.downstreamAddressTexts.remote
    }

    /// Worked out once per request, when a script first asks: nothing in it changes meanwhile,
    /// and the addresses cost a formatting each.
    var streamInfo: LuaStreamInfo {
        if let streamInfoCache { return streamInfoCache }
        let info = makeStreamInfo()
        streamInfoCache = info
        return info
    }

    private var streamInfoCache: LuaStreamInfo?
    /// How the request ended, once it ended (`ExchangeLuaHost+Outcome`).
    var requestOutcomeCache: LuaRequestOutcome?

    /// A phase of `stage` starts.
    func enter(_ stage: LuaStage) {
        currentStage = stage
        clearsRouteCache = stage.clearsRouteCache
    }

    /// Serves `exchange` from now on.
    func bind(to exchange: HTTPExchange) {
        boundExchange = exchange
    }

    /// The request is over: its exchange and what was worked out for it are let go.
    func unbind() {
        boundExchange = nil
        streamInfoCache = nil
        requestOutcomeCache = nil
        currentStage = nil
        clearsRouteCache = true
    }

    private func makeStreamInfo() -> LuaStreamInfo {
        let addresses = exchange.downstreamAddressTexts
        return LuaStreamInfo(
            protocolName: protocolName,
            downstreamLocalAddress: addresses.local,
            downstreamRemoteAddress: downstreamRemoteAddress,
            direction: direction,
            requestedServerName: exchange.tls?.serverName ?? "",
            downstreamDirectLocalAddress: addresses.directLocal,
            downstreamDirectRemoteAddress: addresses.remote,
            routeName: exchange.route?.routeName ?? "")
    }

    /// As Envoy names it ("HTTP/2": NIO's HTTP/2 codec marks requests 2.0); the usual ones
    /// without formatting a string per request.
    private static func protocolName(_ version: HTTPVersion) -> String {
        switch (version.major, version.minor) {
        case (2, _): "HTTP/2"
        case (1, 1): "HTTP/1.1"
        case (1, 0): "HTTP/1.0"
        default: "HTTP/\(version.major).\(version.minor)"
        }
    }

    var routeMetadata: ConfigValue { exchange.route?.metadata ?? .map([]) }
    var routeName: String? { exchange.route?.routeName }
    var destinationService: String? { exchange.route?.service }
    var clusterName: String? { exchange.route?.clusterName }
    var upstreamTarget: String? { exchange.upstreamTarget }
    var attemptCount: Int { exchange.attemptCount }

    func clearRouteCache() {
        exchange.clearRouteCache()
    }
}

@available(*, unavailable)
extension ExchangeLuaHost: Sendable {}

extension LuaHTTPPhase {
    var side: HTTPMessageSide { self == .request ? .request : .response }
}

extension LuaLogLevel {
    var loggerLevel: Logger.Level {
        switch self {
        case .trace: return .trace
        case .debug: return .debug
        case .info: return .info
        case .warn: return .warning
        case .error: return .error
        case .critical: return .critical
        }
    }
}
