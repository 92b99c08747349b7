import LuxyConfig

/// What a Lua HTTP handle needs from the proxy, for one request. LuxyLua knows nothing of
/// sockets: the adapter in LuxyPlugins implements this over the core's exchange.
///
/// Every method is called on the request's event loop, from inside a host call of the
/// request's coroutine. Completion handlers of the asynchronous methods must be called on
/// that same loop, exactly once, and never synchronously from inside the method itself
/// when `body`/`httpCall` actually has to wait (calling synchronously when the value is
/// already there is allowed and is the fast path).
public protocol LuaHTTPHost: AnyObject {
    /// Header access for the phase being run: request headers in `on_request`, response
    /// headers in `on_response`. Pseudo-headers (`:method`, `:path`, `:authority`,
    /// `:scheme` on requests; `:status` on responses) are part of the map, as in Envoy.
    func headers(_ phase: LuaHTTPPhase) -> LuaHeaderMap
    /// Trailers of the phase, or nil when there are none.
    func trailers(_ phase: LuaHTTPPhase) -> LuaHeaderMap?

    /// The whole body of the phase, buffering it if it is still streaming. nil when the
    /// message has no body. `.failure` when the body is over the buffering limit.
    func body(_ phase: LuaHTTPPhase, completion: @escaping (Result<[UInt8]?, LuaHostError>) -> Void)
    /// Replace the buffered body (the host fixes up content-length). Only valid after `body`.
    func setBody(_ phase: LuaHTTPPhase, _ bytes: [UInt8])

    /// Envoy's `bodyChunks()`, one step: the chunk the script held goes on its way, and the
    /// completion says whether the next one is held now (true) or the body ended (false).
    /// The first call makes the request (or response) continue without waiting for the
    /// script: its head goes on, so the body can flow.
    func nextBodyChunk(_ phase: LuaHTTPPhase, completion: @escaping (Result<Bool, LuaHostError>) -> Void)
    /// The held chunk; valid only between `nextBodyChunk`'s true and the next call, or, for
    /// the last chunk when the end came with it, until `stopBodyChunks`.
    func holdsBodyChunk(_ phase: LuaHTTPPhase) -> Bool
    func bodyChunkLength(_ phase: LuaHTTPPhase) -> Int
    func bodyChunkBytes(_ phase: LuaHTTPPhase) -> [UInt8]
    /// Replaces the held chunk's bytes before it goes on.
    func setBodyChunk(_ phase: LuaHTTPPhase, _ bytes: [UInt8])
    /// The script stopped iterating (its loop or phase ended): the rest of the body flows past.
    func stopBodyChunks(_ phase: LuaHTTPPhase)

    /// Call a cluster. Transport failures come back as a 503 response, not as an error.
    /// With `asynchronous == true` the script does not wait: the completion is ignored.
    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool,
                  completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void)

    /// Whether `httpCall` may name this cluster: an unknown one raises in the script.
    func clusterExists(_ name: String) -> Bool

    /// Short-circuit the request with this local reply (headers include `:status`).
    func respond(headers: [(String, String)], body: [UInt8])

    func log(_ level: LuaLogLevel, _ message: String)

    /// Runs `work` on the request's event loop later, after the loop has served its other
    /// connections (polled its sockets): a phase whose slice of the instruction budget ran
    /// out goes on there.
    func continueLater(_ work: @escaping () -> Void)

    var streamInfo: LuaStreamInfo { get }
    /// `streamInfo`'s direction, protocol name and client address alone: scripts and log
    /// formats ask for them on every request (`h:direction()` labels metrics, an access-log
    /// line prints the protocol and the client), and a copy of the whole stream info to read
    /// one field retained and released each of its strings.
    var direction: String { get }
    var protocolName: String { get }
    var downstreamRemoteAddress: String { get }
    /// The route's `metadata:` from YAML (Envoy's `handle:metadata()`).
    var routeMetadata: ConfigValue { get }
    /// Pipy-style framework variables.
    var routeName: String? { get }
    var destinationService: String? { get }
    var clusterName: String? { get }
    /// `host:port` of the chosen upstream endpoint; known once routing picked one.
    var upstreamTarget: String? { get }
    /// The downstream TLS connection (`connection():ssl()`); nil on a plain connection.
    var ssl: LuaSSLInfo? { get }
    /// Envoy's `clearRouteCache()`: a script changed what routing looks at (host, path,
    /// headers), so the route is chosen again before the request goes upstream.
    func clearRouteCache()
    /// The route's `per_stage: {STAGE: {config: …}}` for the stage running now (Envoy's
    /// `filterContext()`); nil where the route sets none.
    var filterContext: ConfigValue? { get }
    /// Upstream attempts made for this request so far: 0 before it went upstream, 1 for one
    /// attempt, more when it was retried (`streamInfo():attemptCount()`).
    var attemptCount: Int { get }
    /// How the request ended, for the log phase: the status sent (0 when none was), the
    /// response flags (`UF,URX`, `-` for none), body bytes each way, the time since the
    /// request head (ms) and when it came (ms since the epoch).
    var requestOutcome: LuaRequestOutcome { get }
    /// Adds a response flag by its short code (`RL`); false for an unknown code.
    func setResponseFlag(_ code: String) -> Bool
    /// Appends `line` and a newline to `destination` (`stdout` or a file path): the access
    /// log, written apart from the operational log (stderr) and never blocking the loop.
    /// Bytes where a rendered log format or a Lua string has them, valid during the call only.
    func writeAccessLog(_ line: UnsafeRawBufferPointer, to destination: String) throws(LuaHostError)
}

extension LuaHTTPHost {
    public var direction: String { streamInfo.direction }
    public var protocolName: String { streamInfo.protocolName }
    public var downstreamRemoteAddress: String { streamInfo.downstreamRemoteAddress }
}

/// What `streamInfo()` tells of the end of a request. A value; Sendable.
public struct LuaRequestOutcome: Sendable {
    public var responseCode: Int
    public var responseFlags: String
    public var bytesReceived: Int
    public var bytesSent: Int
    public var durationMilliseconds: Double
    public var startTimeMilliseconds: Double

    public init(responseCode: Int = 0, responseFlags: String = "-", bytesReceived: Int = 0, bytesSent: Int = 0,
                durationMilliseconds: Double = 0, startTimeMilliseconds: Double = 0) {
        self.responseCode = responseCode
        self.responseFlags = responseFlags
        self.bytesReceived = bytesReceived
        self.bytesSent = bytesSent
        self.durationMilliseconds = durationMilliseconds
        self.startTimeMilliseconds = startTimeMilliseconds
    }
}

extension LuaHTTPHost {
    public func nextBodyChunk(_ phase: LuaHTTPPhase, completion: @escaping (Result<Bool, LuaHostError>) -> Void) {
        completion(.failure(LuaHostError("bodyChunks() is not available here")))
    }
    public func holdsBodyChunk(_ phase: LuaHTTPPhase) -> Bool { false }
    public func bodyChunkLength(_ phase: LuaHTTPPhase) -> Int { 0 }
    public func bodyChunkBytes(_ phase: LuaHTTPPhase) -> [UInt8] { [] }
    public func setBodyChunk(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) {}
    public func stopBodyChunks(_ phase: LuaHTTPPhase) {}
    public func clusterExists(_ name: String) -> Bool { true }
    public var attemptCount: Int { 0 }
    public var ssl: LuaSSLInfo? { nil }
    public var filterContext: ConfigValue? { nil }
    public func clearRouteCache() {}
    public var requestOutcome: LuaRequestOutcome { LuaRequestOutcome() }
    /// A host that keeps no flags (a test host) takes any code.
    public func setResponseFlag(_ code: String) -> Bool { true }
    public func writeAccessLog(_ line: UnsafeRawBufferPointer, to destination: String) throws(LuaHostError) {
        throw LuaHostError("accessLog() is not available here")
    }
}

/// `log` runs once at the very end of every request (`on_log`); it sees the response side.
public enum LuaHTTPPhase: Sendable { case request, response, log }

public enum LuaLogLevel: Int, Sendable, Comparable {
    case trace, debug, info, warn, error, critical
    public static func < (a: LuaLogLevel, b: LuaLogLevel) -> Bool { a.rawValue < b.rawValue }
}

public struct LuaHostError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct LuaHTTPCallResponse: Sendable {
    /// Includes `:status`.
    public var headers: [(String, String)]
    public var body: [UInt8]
    public init(headers: [(String, String)], body: [UInt8]) {
        self.headers = headers
        self.body = body
    }
}

/// Envoy's `streamInfo()` values for one request. A plain value, made once per request.
public struct LuaStreamInfo: Sendable {
    /// "HTTP/1.0", "HTTP/1.1" or "HTTP/2".
    public var protocolName: String
    /// "ip:port" strings, as Envoy prints them.
    public var downstreamLocalAddress: String
    /// The client: the connection's peer, or the address `x-forwarded-for` names under the
    /// listener's `xff_num_trusted_hops` (Envoy prints such an address with port 0).
    public var downstreamRemoteAddress: String
    /// The connection's own ends, whatever `x-forwarded-for` says.
    public var downstreamDirectLocalAddress: String
    public var downstreamDirectRemoteAddress: String
    public var direction: String
    public var requestedServerName: String
    /// The matched route's name; "" when no route matched.
    public var routeName: String

    public init(protocolName: String, downstreamLocalAddress: String, downstreamRemoteAddress: String,
                direction: String, requestedServerName: String = "", downstreamDirectLocalAddress: String? = nil,
                downstreamDirectRemoteAddress: String? = nil, routeName: String = "") {
        self.protocolName = protocolName
        self.downstreamLocalAddress = downstreamLocalAddress
        self.downstreamRemoteAddress = downstreamRemoteAddress
        self.downstreamDirectLocalAddress = downstreamDirectLocalAddress ?? downstreamLocalAddress
        self.downstreamDirectRemoteAddress = downstreamDirectRemoteAddress ?? downstreamRemoteAddress
        self.direction = direction
        self.requestedServerName = requestedServerName
        self.routeName = routeName
    }
}

/// A mutable header map with Envoy's semantics. Names are compared case-insensitively.
/// A view onto the host's headers: a host may hand out a small struct (no allocation per
/// request) as long as its methods act on the headers themselves.
public protocol LuaHeaderMap {
    /// All values of `name` joined with "," (Envoy's `get`), nil when absent.
    func get(_ name: String) -> String?
    func values(_ name: String) -> [String]
    func add(_ name: String, _ value: String)
    /// Replace every value of `name` with one value (adds it when absent).
    func replace(_ name: String, _ value: String)
    func remove(_ name: String)
    /// Every entry in order, pseudo-headers first.
    func entries() -> [(String, String)]
    /// Envoy's `setHttp1ReasonPhrase`: the reason phrase an HTTP/1.1 response goes out with.
    /// Only response headers have one; elsewhere it does nothing.
    func setReasonPhrase(_ phrase: String)
}

extension LuaHeaderMap {
    public func setReasonPhrase(_ phrase: String) {}
}
