import LuxyCore
import LuxyLua
import NIOHTTP1

/// One test request and its response, as the stages change them: what the proxy's
/// `HTTPExchange` is to the production host, without a connection. Confined to the
/// harness's event loop.
final class InMemoryExchange {
    var method: String
    var path: String
    var authority: String
    var scheme: String
    var request: TestHTTPMessage
    /// Set once the request went "upstream" (or a reply was made): the response phases work on it.
    var responseStatus: HTTPResponseStatus?
    var response = TestHTTPMessage()
    /// What `respond()` answered.
    var localReply: LocalReply?
    /// Upstream attempts made (`attemptCount()`): 1 once the request went upstream, as the
    /// driver counts the one attempt a test scripts; 0 when a stage answered or failed first.
    var attemptCount = 0
    /// Why the request ended as it did, as the proxy's driver flags it (`LR`, `PF`, `UF`…)
    /// and as stages add with `setResponseFlag`: what the log phase reads.
    var responseFlags = ResponseFlags()
    /// A stage asked for the route again (`clearRouteCache()`, or a change to `:path`,
    /// `:authority`, `:method`).
    var routeCleared = false
    /// The chunks of a body a script iterates with `bodyChunks()`, per phase.
    var requestChunks: BodyChunkCursor?
    var responseChunks: BodyChunkCursor?

    init(_ request: TestHTTPRequest) {
        method = request.method
        path = request.path
        authority = request.authority
        scheme = request.scheme
        self.request = request.message
    }

    func message(_ phase: LuaHTTPPhase) -> TestHTTPMessage {
        phase == .request ? request : response
    }

    func update(_ phase: LuaHTTPPhase, _ change: (inout TestHTTPMessage) -> Void) {
        if phase == .request { change(&request) } else { change(&response) }
    }
}

@available(*, unavailable)
extension InMemoryExchange: Sendable {}

/// Where `bodyChunks()` is in a body: the chunks still to come, the one the script holds,
/// and what went on. A value inside the exchange, on the harness's loop.
struct BodyChunkCursor {
    var pending: [[UInt8]]
    var held: [UInt8]?
    var passed: [UInt8] = []

    init(chunks: [[UInt8]]) { pending = chunks }

    /// The held chunk goes on; the next is held. False at the end.
    mutating func advance() -> Bool {
        if let held { passed += held }
        held = nil
        guard !pending.isEmpty else { return false }
        held = pending.removeFirst()
        return true
    }

    /// The script stopped iterating: the rest flows past.
    mutating func stop() -> [UInt8] {
        if let held { passed += held }
        held = nil
        for chunk in pending { passed += chunk }
        pending = []
        return passed
    }
}
