import LuxyConfig
import NIOCore
import NIOHTTP1

/// One request/response as stages see it. Lives on the downstream connection's event loop.
///
/// Bodies stream by default: parts that arrive while stages run are held here, and only a
/// stage asking for the body (`requestBody`/`responseBody`) makes the exchange wait for all
/// of it. Handed to stages by the core; the fields stages may change are `var`.
public final class HTTPExchange {
    public enum BodyError: Error, CustomStringConvertible {
        case tooLarge(limit: Int)
        case aborted

        public var description: String {
            switch self {
            case .tooLarge(let limit): return "body larger than the buffering limit of \(limit) bytes"
            case .aborted: return "the connection closed before the body was complete"
            }
        }
    }

    public let listenerName: String
    public let direction: TrafficDirection
    public let eventLoop: EventLoop
    /// The downstream connection's two ends, read once per connection.
    let peer: ConnectionPeer
    /// The client's address, the local one (the original destination on a listener that
    /// restores it) and the socket's own, as text (`ip:port`), formatted once per connection.
    public var downstreamAddressTexts: DownstreamAddressTexts { peer.addressTexts }
    /// What the request head said about its framing when it was parsed.
    let framing: RequestFraming
    public let startTime: NIODeadline
    /// The downstream connection's TLS handshake; nil on a plain connection.
    public internal(set) var tls: TLSConnectionInfo?

    public var requestHead: HTTPRequestHead
    public var requestTrailers: HTTPHeaders?
    public internal(set) var route: RouteMatch?
    public var responseHead: HTTPResponseHead?
    public var responseTrailers: HTTPHeaders?
    /// `host:port` of the upstream endpoint, once load balancing picked one.
    public internal(set) var upstreamTarget: String?
    /// The client `x-forwarded-for` names under the listener's `xff_num_trusted_hops`, read
    /// once, when the request arrived, as Envoy reads it before its filters: neither a stage
    /// nor this proxy's own entry (appended as the request goes upstream) changes it later.
    /// nil when the listener trusts no hop or the field names no address: the client is then
    /// the connection's peer.
    public let forwardedClient: SocketAddress?
    /// The client's address was appended to `requestHead`'s `x-forwarded-for` as the request
    /// went upstream (`UpstreamRequestHead`), so a retry does not append it again.
    var clientAddressForwarded = false
    /// Upstream attempts made so far: 0 before the request went upstream, more than 1 once it
    /// was retried (the route's `retry_policy`).
    public internal(set) var attemptCount = 0
    /// Why the request ended as it did (Envoy's `%RESPONSE_FLAGS%`); stages may add one
    /// (`RL` from a rate limiter).
    public var responseFlags = ResponseFlags()
    /// Body bytes read from the client and written to it (heads not counted, as Envoy's
    /// `%BYTES_RECEIVED%` / `%BYTES_SENT%`).
    public internal(set) var bytesReceived = 0
    public internal(set) var bytesSent = 0
    /// From the request head to the end of the exchange; set when it ended, for the log phases
    /// (nil on a request whose stages have none).
    public internal(set) var duration: TimeAmount?
    /// What a stage answers instead of the upstream (set together with `StageVerdict.responded`).
    public var localReply: LocalReply?
    /// Per-request state of the plugin layer (e.g. the Lua stream shared by all stages).
    public var pluginState: AnyObject?
    /// A stage changed what routing looks at and asked for the route again (Envoy's
    /// `clearRouteCache()`); the route is chosen anew before the request goes upstream.
    public private(set) var routeCleared = false

    public func clearRouteCache() {
        routeCleared = true
    }

    /// Lower-case names of the request fields routing reads (see `Router.routingFieldNames`).
    let routingFieldNames: [String]

    /// A stage changed the request field `name` (pseudo-headers included): if routing reads
    /// it, the route is chosen again before the request goes upstream (Envoy's
    /// `clear_route_cache`).
    public func requestFieldChanged(_ name: String) {
        guard !routeCleared else { return }
        if name.utf8.first == UInt8(ascii: ":") {
            // `:path`, `:authority` and `:method` all take part in routing; `:scheme` does not.
            routeCleared = !name.equalsIgnoringASCIICase(":scheme")
            return
        }
        routeCleared = routingFieldNames.contains { name.equalsIgnoringASCIICase($0) }
    }

    /// The core's side of the exchange: told when a stage starts waiting for the body, and
    /// of each stage's verdict. Its driver, which owns the exchange and sets this back to nil
    /// in its deinit, so it never dangles (a stage may hold the exchange longer). Not `weak`:
    /// a weak reference gives every driver a side table, one more allocation per request and
    /// slow-path reference counting on the driver for its whole life.
    unowned(unsafe) var flowControl: HTTPExchangeFlowControl?

    /// The verdict of the stage phase running now (see `HTTPStage`).
    public func resume(_ verdict: StageVerdict) {
        flowControl?.stageFinished(verdict)
    }

    let maxBufferedBodyBytes: Int
    let services: UpstreamServices
    /// What arrived of each body and nothing could forward yet; changed through `changeBody`.
    var request = BodyBuffer()
    var response = BodyBuffer()
    /// Made only when a stage takes that body chunk by chunk (`nextBodyChunk`): an exchange
    /// whose stages never do costs nothing for it.
    var requestChunks: BodyChunkStream?
    var responseChunks: BodyChunkStream?

    /// `startTime`: when the head was read, on the loop's clock.
    init(listenerName: String, direction: TrafficDirection, eventLoop: EventLoop, head: HTTPRequestHead,
         framing: RequestFraming, peer: ConnectionPeer, maxBufferedBodyBytes: Int, services: UpstreamServices,
         routingFieldNames: [String] = ["host"], trustedForwardedHops: Int = 0, startTime: NIODeadline) {
        self.routingFieldNames = routingFieldNames
        // Only listeners that trust hops pay for reading the field.
        self.forwardedClient = trustedForwardedHops > 0
            ? ForwardedClientAddress.resolve(headerValues: head.headers["x-forwarded-for"],
                                             trustedHops: trustedForwardedHops)
            : nil
        self.listenerName = listenerName
        self.direction = direction
        self.eventLoop = eventLoop
        self.requestHead = head
        self.framing = framing
        self.peer = peer
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.services = services
        self.startTime = startTime
        self.request.hasBody = framing.hasBody
    }

    /// The whole request body (nil when the request has none), buffering what is still streaming.
    public func requestBody(_ completion: @escaping (Result<ByteBuffer?, BodyError>) -> Void) {
        // The declared length already says the body can't be kept: refused from the head, so
        // the client gets its 413 at once, without a `100 Continue` or a wait for the body.
        if let declared = framing.contentLength, declared > maxBufferedBodyBytes, !request.wasReplaced {
            return changeBody(.request) { $0.refuse(limit: maxBufferedBodyBytes, completion) }
        }
        flowControl?.exchangeWantsRequestBody()
        changeBody(.request) { $0.whenComplete(limit: maxBufferedBodyBytes, completion) }
    }

    /// Replaces the request body; content-length follows.
    public func setRequestBody(_ body: ByteBuffer) {
        request.replace(with: body)
        requestHead.headers.setContentLength(body.readableBytes)
    }

    public func responseBody(_ completion: @escaping (Result<ByteBuffer?, BodyError>) -> Void) {
        changeBody(.response) { $0.whenComplete(limit: maxBufferedBodyBytes, completion) }
    }

    public func setResponseBody(_ body: ByteBuffer) {
        response.replace(with: body)
        responseHead?.headers.setContentLength(body.readableBytes)
    }

    public func hasCluster(_ name: String) -> Bool {
        services.hasCluster(name)
    }

    /// A side call to a cluster, as Envoy's `httpCall`. Transport failures are answered as a
    /// local 5xx response, never as an error, so scripts see one shape.
    public func httpCall(cluster: String, head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount,
                         completion: @escaping (HTTPResponseHead, ByteBuffer) -> Void) {
        services.call(cluster: cluster, head: head, body: body, timeout: timeout, completion: completion)
    }

}

@available(*, unavailable)
extension HTTPExchange: Sendable {}

/// How an exchange asks the connection carrying it to keep reading.
protocol HTTPExchangeFlowControl: BodyChunkOutlet {
    func exchangeWantsRequestBody()
    func stageFinished(_ verdict: StageVerdict)
    /// A stage takes this body chunk by chunk from now on: what was buffered or ended before
    /// is the stream's now, so the driver must not forward it on its own.
    func bodyStreamingBegan(side: HTTPMessageSide)
    /// The verdict of a stage whose phase went on streaming after the chain continued.
    func streamingStageFinished(_ verdict: StageVerdict, side: HTTPMessageSide)
}

extension HTTPHeaders {
    mutating func setContentLength(_ length: Int) {
        remove(name: "transfer-encoding")
        replaceOrAdd(name: "content-length", value: String(length))
    }
}
