import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// A real h2c server (prior knowledge) on 127.0.0.1, port 0, for tests of `protocol: http2`
/// clusters. It counts the TCP connections it accepted and records every request.
///
/// Answers:
/// - `content-type: application/grpc…` → 200 `application/grpc`, the request body echoed,
///   trailers `grpc-status: 0`, `grpc-message: OK` and `x-request-trailers: N` (how many
///   request trailers arrived), as a gRPC server would
/// - `…/delay/MS` → the echo after MS milliseconds (keeps streams open at the same time)
/// - anything else → 200, `x-upstream: NAME`, `x-upstream-protocol: HTTP/2`, body
///   `METHOD PATH\nname: value...\n\nBODY`
/// - after `refuseStreams(n)`: the next n streams get `RST_STREAM(REFUSED_STREAM)` as their
///   HEADERS arrive, unprocessed and not recorded (an upstream at its stream limit)
public final class FakeHTTP2Upstream: Sendable {
    public struct Received: Sendable {
        public var head: HTTPRequestHead
        public var body: String
        public var trailers: HTTPHeaders?
    }

    struct State {
        var received: [Received] = []
        var connections = 0
        /// Streams still to refuse (`refuseStreams`), and those refused so far.
        var streamsToRefuse = 0
        var refusedStreams = 0
    }

    public let name: String
    public let port: Int
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    /// With `tls`, h2 over TLS (ALPN `h2`) instead of h2c.
    public static func start(name: String = "h2-upstream", group: EventLoopGroup,
                             tls: TLSConfiguration? = nil) async throws -> FakeHTTP2Upstream {
        let state = NIOLockedValueBox(State())
        let sslContext = try tls.map { config -> NIOSSLContext in
            var config = config
            config.applicationProtocols = ["h2"]
            return try NIOSSLContext(configuration: config)
        }
        let channel = try await LoopbackServer.bind(group: group, tls: sslContext) { channel in
            state.withLockedValue { $0.connections += 1 }
            var settings = NIOHTTP2Handler.ConnectionConfiguration()
            settings.initialSettings = [HTTP2Setting(parameter: .maxConcurrentStreams, value: 1000)]
            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .server, connectionConfiguration: settings, streamConfiguration: .init()
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    let refuse = state.withLockedValue { state -> Bool in
                        guard state.streamsToRefuse > 0 else { return false }
                        state.streamsToRefuse -= 1
                        state.refusedStreams += 1
                        return true
                    }
                    if refuse { return try stream.pipeline.syncOperations.addHandler(FakeHTTP2StreamRefusal()) }
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                    try stream.pipeline.syncOperations.addHandler(FakeHTTP2StreamHandler(name: name, state: state))
                }
            }
        }
        return FakeHTTP2Upstream(name: name, port: channel.localAddress!.port!, channel: channel, state: state)
    }

    private init(name: String, port: Int, channel: Channel, state: NIOLockedValueBox<State>) {
        self.name = name
        self.port = port
        self.channel = channel
        self.state = state
    }

    public var address: String { "127.0.0.1:\(port)" }
    public var received: [Received] { state.withLockedValue { $0.received } }
    /// Streams refused with REFUSED_STREAM so far.
    public var refusedStreams: Int { state.withLockedValue { $0.refusedStreams } }

    /// The next `count` streams are refused with `RST_STREAM(REFUSED_STREAM)`.
    public func refuseStreams(_ count: Int) {
        state.withLockedValue { $0.streamsToRefuse = count }
    }

    /// TCP connections accepted so far.
    public var acceptedConnections: Int { state.withLockedValue { $0.connections } }

    public func stop() async {
        try? await channel.close()
    }
}

/// Answers a stream's first frame with `RST_STREAM(REFUSED_STREAM)`: HTTP/2's promise that
/// the request was not processed, so a client may send it again.
final class FakeHTTP2StreamRefusal: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var refused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        refused = true
        context.writeAndFlush(Self.wrapOutboundOut(.rstStream(.refusedStream)), promise: nil)
    }
}

@available(*, unavailable)
extension FakeHTTP2StreamRefusal: Sendable {}

final class FakeHTTP2StreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private let state: NIOLockedValueBox<FakeHTTP2Upstream.State>
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(name: String, state: NIOLockedValueBox<FakeHTTP2Upstream.State>) {
        self.name = name
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            body.writeBuffer(&part)
        case .end(let trailers):
            guard let head else { return }
            let text = String(buffer: body)
            state.withLockedValue { $0.received.append(.init(head: head, body: text, trailers: trailers)) }
            answer(head, trailers: trailers, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, trailers: HTTPHeaders?, context: ChannelHandlerContext) {
        if head.headers.first(name: "content-type")?.hasPrefix("application/grpc") == true {
            let headers = HTTPHeaders([("content-type", "application/grpc"), ("x-upstream", name)])
            context.write(Self.wrapOutboundOut(.head(.init(version: .http2, status: .ok, headers: headers))), promise: nil)
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            let out = HTTPHeaders([("grpc-status", "0"), ("grpc-message", "OK"),
                                   ("x-request-trailers", String(trailers?.count ?? 0))])
            context.writeAndFlush(Self.wrapOutboundOut(.end(out)), promise: nil)
            return
        }
        var echo = "\(head.method.rawValue) \(head.uri)\n"
        for (name, value) in head.headers { echo += "\(name.lowercased()): \(value)\n" }
        echo += "\n" + String(buffer: body)
        // A constant for the scheduled task, which may run after this returns.
        let text = echo
        let parts = head.uri.split(separator: "?").first.map { $0.split(separator: "/") } ?? []
        if let index = parts.firstIndex(of: "delay"), index + 1 < parts.count, let ms = Int64(parts[index + 1]) {
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let name = self.name
            context.eventLoop.scheduleTask(in: .milliseconds(ms)) { Self.write(bound.value, text, upstream: name) }
        } else {
            Self.write(context, text, upstream: name)
        }
    }

    private static func write(_ context: ChannelHandlerContext, _ text: String, upstream: String) {
        let headers = HTTPHeaders([("content-length", String(text.utf8.count)), ("x-upstream", upstream),
                                   ("x-upstream-protocol", "HTTP/2")])
        context.write(NIOAny(HTTPServerResponsePart.head(.init(version: .http2, status: .ok, headers: headers))),
                      promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    }
}

@available(*, unavailable)
extension FakeHTTP2StreamHandler: Sendable {}
