import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

extension TestHTTPConnection {
    /// A TLS connection (HTTP/1.1 over it). Returns once the handshake completed; throws the
    /// handshake's error when it failed.
    public static func connectTLS(port: Int, group: EventLoopGroup, configuration: TLSConfiguration,
                                  serverName: String? = "localhost") async throws -> TestHTTPConnection {
        let context = try NIOSSLContext(configuration: configuration)
        let inbox = NIOLockedValueBox(Inbox())
        let handshake = group.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: handshake.futureResult.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    try sync.addHandler(HandshakeWatcher(promise: handshake))
                    try sync.addHandler(CollectingHandler(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        do {
            try await handshake.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return TestHTTPConnection(channel: channel, inbox: inbox)
    }

    /// The certificate the server presented (TLS connections only).
    public func peerCertificate() async throws -> NIOSSLCertificate? {
        let channel = self.channel
        return try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).peerCertificate
        }.get()
    }

    /// The negotiated TLS version, e.g. `.tlsv13`.
    public func tlsVersion() async throws -> TLSVersion? {
        let channel = self.channel
        return try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion
        }.get()
    }
}

/// Completes `promise` when the TLS handshake ends, one way or the other.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private var done = false

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent { finish(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(ChannelError.eof)
        context.fireChannelInactive()
    }

    private func finish(_ error: Error?) {
        guard !done else { return }
        done = true
        if let error { promise.fail(error) } else { promise.succeed() }
    }
}

@available(*, unavailable)
extension HandshakeWatcher: Sendable {}
