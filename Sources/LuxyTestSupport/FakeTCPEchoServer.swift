import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A TCP echo server on 127.0.0.1, port 0: every byte it reads it writes back. It honours
/// half-close (a client that shuts its output still gets the echo, then end-of-stream), and
/// it stops reading while its writes pile up, so it never buffers much itself. It records
/// what it received (the first `recordLimit` bytes, and the total count).
public final class FakeTCPEchoServer: Sendable {
    public let port: Int
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var received: [UInt8] = []
        var receivedCount = 0
        var connections = 0
        var halfClosedByClient = 0
    }

    public static let recordLimit = 1 << 20

    /// With `tls` it speaks TLS (a `certificateVerification` other than `.none` in it makes
    /// it require a client certificate).
    public static func start(group: EventLoopGroup, tls: TLSConfiguration? = nil) async throws -> FakeTCPEchoServer {
        let state = NIOLockedValueBox(State())
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await LoopbackServer.bind(group: group, tls: sslContext, allowHalfClosure: true) { channel in
            try channel.pipeline.syncOperations.addHandler(EchoHandler(state: state))
        }
        return FakeTCPEchoServer(port: channel.localAddress!.port!, channel: channel, state: state)
    }

    private init(port: Int, channel: Channel, state: NIOLockedValueBox<State>) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    public var address: String { "127.0.0.1:\(port)" }
    /// What it received, as text (the first `recordLimit` bytes).
    public var receivedText: String { state.withLockedValue { String(decoding: $0.received, as: UTF8.self) } }
    public var receivedCount: Int { state.withLockedValue { $0.receivedCount } }
    public var connectionCount: Int { state.withLockedValue { $0.connections } }
    /// Connections whose client half-closed (end-of-stream while the connection stayed open).
    public var halfClosedCount: Int { state.withLockedValue { $0.halfClosedByClient } }

    public func stop() async {
        try? await channel.close()
    }

    private final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        private let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelActive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.connections += 1 }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Self.unwrapInboundIn(data)
            state.withLockedValue { state in
                state.receivedCount += bytes.readableBytes
                let room = FakeTCPEchoServer.recordLimit - state.received.count
                if room > 0 { state.received += bytes.readableBytesView.prefix(room) }
            }
            context.write(Self.wrapOutboundOut(bytes), promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }

        func channelWritabilityChanged(context: ChannelHandlerContext) {
            // Read only as fast as the peer takes the echo.
            context.channel.setOption(.autoRead, value: context.channel.isWritable).whenComplete { _ in }
            if context.channel.isWritable { context.read() }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed {
                state.withLockedValue { $0.halfClosedByClient += 1 }
                // Its input is closed, so closing the output is a full close, which would drop
                // unsent echo: close once everything written is sent.
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
