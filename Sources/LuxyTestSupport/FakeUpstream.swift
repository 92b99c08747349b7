import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTP/1.1 server on 127.0.0.1, port 0, for tests: it records what it received and
/// answers by path, so a test can tell exactly what reached the upstream.
///
/// Paths it understands:
/// - `/status/NNN` → that status, empty body
/// - `/hold` → waits until `releaseHeld()` (a request held open across a reload)
/// - `/delay/MS` → answers after MS milliseconds
/// - `/close` → closes the connection without answering (a reset)
/// - `/early` → 401 as soon as the head arrives, before the body (which it still reads)
/// - `/flaky` → answered on a new connection, but a kept-alive one is closed instead (an
///   upstream whose keep-alive timeout fired as the proxy reused the connection)
/// - `/garbage` → answers bytes that are not HTTP
/// - `/hop-by-hop` → 200 with a reason of its own, hop-by-hop fields (`connection`,
///   `keep-alive`, `proxy-authenticate`, `trailer`) among the others, and the body `ok`
/// - `/bytes/N` → N bytes of body, chunked
/// - `/sink…` → like anything else, but the request body is counted, not kept (`bodyByteCount`),
///   so a test can send hundreds of megabytes without the upstream holding them
/// - any path, after `answerEverything(with:)`: that status
/// - anything else → 200 with the request echoed as `METHOD PATH\nname: value...\n\nBODY`
///   and `x-upstream: NAME`
public final class FakeUpstream: Sendable {
    /// What every request gets whatever its path, for tests where one endpoint of a cluster
    /// misbehaves while the others, asked the same path, answer as usual.
    public enum Override: Sendable, Equatable {
        /// Answers by path, as described above.
        case none
        /// Every request is answered with this status.
        case status(Int)
        /// `percent` % of the requests, spread evenly (by the count received), get `status`;
        /// the rest are answered by path: an endpoint with a poor success rate, not a dead one.
        case statusSometimes(Int, percent: Int)
        /// Every request is answered as usual, this many milliseconds late.
        case delay(Int)
    }

    public struct Received: Sendable {
        public var head: HTTPRequestHead
        public var body: String
        /// Bytes of request body received (also for `/sink`, whose `body` stays empty).
        public var bodyByteCount: Int
    }

    public let name: String
    public let port: Int
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var received: [Received] = []
        var connectionsAccepted = 0
        var openConnections = 0
        /// Every byte of request the proxy sent, whether or not it parsed as HTTP.
        var bytesReceived = 0
        var held: [@Sendable () -> Void] = []
        var override = Override.none
        /// Bodies served as is (200, by exact path), e.g. a JWKS document.
        var documents: [String: String] = [:]
        /// Accepted connections still open, so `kill()` can cut them.
        var children: [ObjectIdentifier: Channel] = [:]
    }

    /// With `tls`, the upstream speaks HTTPS (a `certificateVerification` other than `.none`
    /// in it makes it require a client certificate).
    /// `port` 0 picks a free one; another brings a killed upstream back where it was.
    public static func start(name: String = "upstream", group: EventLoopGroup,
                             tls: TLSConfiguration? = nil, port: Int = 0) async throws -> FakeUpstream {
        let state = NIOLockedValueBox(State())
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await LoopbackServer.bind(group: group, tls: sslContext, port: port) { channel in
            let id = ObjectIdentifier(channel)
            state.withLockedValue {
                $0.connectionsAccepted += 1
                $0.openConnections += 1
                $0.children[id] = channel
            }
            channel.closeFuture.whenComplete { _ in
                state.withLockedValue {
                    $0.openConnections -= 1
                    $0.children[id] = nil
                }
            }
            try channel.pipeline.syncOperations.addHandler(ReceivedBytesCounter(state: state))
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(FakeUpstreamHandler(name: name, state: state))
        }
        return FakeUpstream(name: name, port: channel.localAddress!.port!, channel: channel, state: state)
    }

    private init(name: String, port: Int, channel: Channel, state: NIOLockedValueBox<State>) {
        self.name = name
        self.port = port
        self.channel = channel
        self.state = state
    }

    public var address: String { "127.0.0.1:\(port)" }

    public var received: [Received] { state.withLockedValue { $0.received } }

    /// Connections the proxy opened to this upstream so far.
    public var connectionsAccepted: Int { state.withLockedValue { $0.connectionsAccepted } }

    /// Connections from the proxy open right now.
    public var openConnections: Int { state.withLockedValue { $0.openConnections } }

    /// Bytes the proxy sent this upstream so far: zero proves nothing reached it, even
    /// something that is not HTTP.
    public var bytesReceived: Int { state.withLockedValue { $0.bytesReceived } }

    public var heldCount: Int { state.withLockedValue { $0.held.count } }

    /// From now on every request is answered with `status` (an upstream that answers 503 for
    /// a while); nil goes back to answering by path.
    /// Every request gets `status` whatever its path (nil: back to normal), as `setOverride`.
    public func answerEverything(with status: Int?) {
        setOverride(status.map { .status($0) } ?? .none)
    }

    /// Answers every request waiting on `/hold`.
    public func releaseHeld() {
        let held = state.withLockedValue { state -> [@Sendable () -> Void] in
            defer { state.held.removeAll() }
            return state.held
        }
        for release in held { release() }
    }

    public func stop() async {
        try? await channel.close()
    }

    /// From now on `GET path` answers 200 with `body` (and is still recorded in `received`).
    public func serve(path: String, body: String) {
        state.withLockedValue { $0.documents[path] = body }
    }

    /// Every request from now on gets `override` (`.none`: answered by path again).
    public func setOverride(_ override: Override) {
        state.withLockedValue { $0.override = override }
    }

    /// A crash: the listening socket and every open connection close at once (requests in
    /// flight are cut without an answer). `start(port:)` brings it back.
    public func kill() async {
        try? await channel.close()
        let children = state.withLockedValue { Array($0.children.values) }
        for child in children { try? await child.close() }
    }
}

/// Counts the bytes that arrive, before any parsing.
final class ReceivedBytesCounter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let state: NIOLockedValueBox<FakeUpstream.State>

    init(state: NIOLockedValueBox<FakeUpstream.State>) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = Self.unwrapInboundIn(data).readableBytes
        state.withLockedValue { $0.bytesReceived += count }
        context.fireChannelRead(data)
    }
}

final class FakeUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private let state: NIOLockedValueBox<FakeUpstream.State>
    private var head: HTTPRequestHead?
    private var body = ""
    private var bodyByteCount = 0
    private var answeredEarly = false
    private var requestsOnConnection = 0

    init(name: String, state: NIOLockedValueBox<FakeUpstream.State>) {
        self.name = name
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = ""
            bodyByteCount = 0
            if head.uri == "/early" {
                answeredEarly = true
                respond(context, status: .unauthorized, body: "early")
            }
        case .body(let buffer):
            bodyByteCount += buffer.readableBytes
            if self.head?.uri.hasPrefix("/sink") != true { body += String(buffer: buffer) }
        case .end:
            guard let head else { return }
            let received = FakeUpstream.Received(head: head, body: body, bodyByteCount: bodyByteCount)
            state.withLockedValue { $0.received.append(received) }
            if answeredEarly {
                answeredEarly = false
                return
            }
            requestsOnConnection += 1
            if head.uri == "/flaky", requestsOnConnection > 1 {
                context.close(promise: nil)
                return
            }
            answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch state.withLockedValue({ $0.override }) {
        case .none:
            break
        case .status(let code):
            return respond(context, status: HTTPResponseStatus(statusCode: code), body: "")
        case .statusSometimes(let code, let percent):
            // This request was recorded before the answer: its number is the count.
            let count = state.withLockedValue { $0.received.count }
            if count * percent / 100 > (count - 1) * percent / 100 {
                return respond(context, status: HTTPResponseStatus(statusCode: code), body: "")
            }
        case .delay(let ms):
            let text = echo(head)
            let upstream = name
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(ms))) {
                Self.write(context, status: .ok, body: text, upstream: upstream)
            }
            return
        }
        let path = head.uri
        let parts = path.split(separator: "/").map(String.init)
        if let document = state.withLockedValue({ $0.documents[path] }) {
            respond(context, status: .ok, body: document)
        } else if parts.first == "status", parts.count > 1, let code = Int(parts[1]) {
            respond(context, status: HTTPResponseStatus(statusCode: code), body: "")
        } else if path == "/hold" {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let text = echo(head)
            let upstream = name
            state.withLockedValue {
                $0.held.append {
                    bound.eventLoop.execute { Self.write(bound.value, status: .ok, body: text, upstream: upstream) }
                }
            }
        } else if parts.first == "delay", parts.count > 1, let ms = Int64(parts[1]) {
            let text = echo(head)
            let upstream = name
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(ms)) {
                Self.write(context, status: .ok, body: text, upstream: upstream)
            }
        } else if path == "/close" {
            context.close(promise: nil)
        } else if path == "/say-close" {
            // Says `connection: close` but leaves the socket open: only the proxy's reading of
            // the head keeps it from reusing the connection.
            Self.write(context, status: .ok, body: "ok", upstream: name, sayingClose: true)
        } else if path == "/garbage" {
            // Below the HTTP encoder, straight to the socket.
            if let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) {
                encoder.writeAndFlush(NIOAny(ByteBuffer(string: "THIS IS NOT HTTP\r\n\r\n")), promise: nil)
            }
        } else if path == "/hop-by-hop" {
            let headers = HTTPHeaders([("x-upstream", name), ("Keep-Alive", "timeout=5"), ("Connection", "keep-alive"),
                                       ("Proxy-Authenticate", "Basic"), ("x-a", "spaced"), ("Trailer", "x-t"),
                                       ("content-length", "2"), ("x-b", "2")])
            let status = HTTPResponseStatus(statusCode: 200, reasonPhrase: "Fine Here")
            context.write(Self.wrapOutboundOut(.head(.init(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        } else if parts.first == "bytes", parts.count > 1, let count = Int(parts[1]) {
            var headers = HTTPHeaders([("x-upstream", name)])
            headers.add(name: "transfer-encoding", value: "chunked")
            context.write(Self.wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            var remaining = count
            while remaining > 0 {
                let size = min(remaining, 16 * 1024)
                context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(repeating: UInt8(ascii: "x"), count: size)))),
                              promise: nil)
                remaining -= size
            }
            context.writeAndFlush(Self.wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            respond(context, status: .ok, body: echo(head))
        }
    }

    private func echo(_ head: HTTPRequestHead) -> String {
        var text = "\(head.method.rawValue) \(head.uri)\n"
        for (name, value) in head.headers { text += "\(name.lowercased()): \(value)\n" }
        return text + "\n" + body
    }

    private func respond(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String) {
        Self.write(context, status: status, body: body, upstream: name)
    }

    private static func write(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, upstream: String,
                              sayingClose: Bool = false) {
        var headers = HTTPHeaders([("content-length", String(body.utf8.count)), ("server", "fake-upstream")])
        if !upstream.isEmpty { headers.add(name: "x-upstream", value: upstream) }
        if sayingClose { headers.add(name: "connection", value: "close") }
        context.write(NIOAny(HTTPServerResponsePart.head(.init(version: .http1_1, status: status, headers: headers))),
                      promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }
}

@available(*, unavailable)
extension FakeUpstreamHandler: Sendable {}
