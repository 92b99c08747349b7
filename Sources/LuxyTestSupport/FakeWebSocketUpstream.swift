import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Just enough of a WebSocket server for proxy tests, on 127.0.0.1, port 0: it answers an
/// `Upgrade: websocket` request with 101 and the RFC 6455 `Sec-WebSocket-Accept`, then echoes
/// raw bytes (no frames: the proxy must not care). Paths:
/// - a path with `refuse` → 200 with a body, no upgrade (the connection stays HTTP/1.1)
/// - a path with `greet` → 101 followed at once, in the same write, by `hello from upstream\n`
/// - anything else → 101, or 200 for a request without the upgrade
public final class FakeWebSocketUpstream: Sendable {
    public struct Request: Sendable {
        public var line: String
        public var headers: [(name: String, value: String)]

        public func header(_ name: String) -> String? {
            let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
            return values.isEmpty ? nil : values.joined(separator: ",")
        }
    }

    struct State {
        var requests: [Request] = []
        var tunnelled: [UInt8] = []
        var open = 0
        var closed = 0
    }

    public let port: Int
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    public static func start(group: EventLoopGroup) async throws -> FakeWebSocketUpstream {
        let state = NIOLockedValueBox(State())
        let channel = try await LoopbackServer.bind(group: group, allowHalfClosure: true) { channel in
            try channel.pipeline.syncOperations.addHandler(Handler(state: state))
        }
        return FakeWebSocketUpstream(port: channel.localAddress!.port!, channel: channel, state: state)
    }

    private init(port: Int, channel: Channel, state: NIOLockedValueBox<State>) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    public var address: String { "127.0.0.1:\(port)" }
    public var requests: [Request] { state.withLockedValue { $0.requests } }
    /// What it echoed after switching, as text.
    public var tunnelledText: String { state.withLockedValue { String(decoding: $0.tunnelled, as: UTF8.self) } }
    public var openConnections: Int { state.withLockedValue { $0.open } }
    public var closedConnections: Int { state.withLockedValue { $0.closed } }

    public func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private let state: NIOLockedValueBox<State>
        private var buffer = ByteBuffer()
        private var switched = false

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelActive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.open += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue {
                $0.open -= 1
                $0.closed += 1
            }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = Self.unwrapInboundIn(data)
            buffer.writeBuffer(&bytes)
            while !switched, let request = nextRequest() { answer(request, context: context) }
            if switched, buffer.readableBytes > 0 {
                let echo = buffer
                buffer.clear()
                state.withLockedValue { $0.tunnelled += echo.readableBytesView }
                context.writeAndFlush(Self.wrapOutboundOut(echo), promise: nil)
            }
        }

        private func nextRequest() -> Request? {
            let text = String(buffer: buffer)
            guard let end = text.range(of: "\r\n\r\n") else { return nil }
            buffer.moveReaderIndex(forwardBy: text[..<end.upperBound].utf8.count)
            var lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
            let line = lines.removeFirst()
            let headers = lines.compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return Request(line: line, headers: headers)
        }

        private func answer(_ request: Request, context: ChannelHandlerContext) {
            state.withLockedValue { $0.requests.append(request) }
            let path = request.line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            let wantsWebSocket = request.header("upgrade")?.lowercased().contains("websocket") == true
            guard wantsWebSocket, !path.contains("refuse") else {
                let body = "no upgrade here\n"
                let head = "HTTP/1.1 200 OK\r\ncontent-length: \(body.utf8.count)\r\n"
                    + "x-upgrade-seen: \(request.header("upgrade") ?? "none")\r\n\r\n"
                context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: head + body)), promise: nil)
                return
            }
            switched = true
            let accept = SHA1.webSocketAccept(key: request.header("sec-websocket-key") ?? "")
            var answer = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
                + "sec-websocket-accept: \(accept)\r\n\r\n"
            if path.contains("greet") { answer += "hello from upstream\n" }
            context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed {
                // The client is done: so is the echo, once what it owes is sent.
                let promise = context.eventLoop.makePromise(of: Void.self)
                promise.futureResult.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
                context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer()), promise: promise)
                return
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
