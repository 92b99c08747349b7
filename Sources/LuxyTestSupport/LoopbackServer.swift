import NIOCore
import NIOPosix
import NIOSSL

/// The server side every fake upstream shares: 127.0.0.1 on a free port, TLS first when
/// given, then the fake's own handlers.
enum LoopbackServer {
    static func bind(group: EventLoopGroup, tls: NIOSSLContext? = nil, allowHalfClosure: Bool = false, port: Int = 0,
                     _ initialize: @escaping @Sendable (Channel) throws -> Void) async throws -> Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: allowHalfClosure)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try initialize(channel)
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
    }
}
