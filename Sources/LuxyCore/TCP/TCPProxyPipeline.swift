import LuxyConfig
import NIOCore
import NIOTLS

/// The handlers of a downstream connection on a tcp listener.
enum TCPProxyPipeline {
    /// `generation` is the one the connection starts on: its chains run the connection to its
    /// end, its clusters serve the connect.
    static func configure(_ channel: Channel, listener: ListenerConfiguration, generation: LoopGeneration,
                          loop: LoopContext) throws {
        // A client that shuts its output still reads the rest of the answer (over TLS, once
        // the handshake completed: `TCPSideHandler`).
        if listener.tls == nil { try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true) }
        // SNI routes without `tls:` inspect the ClientHello and pass TLS through untouched.
        let inspects = listener.tls == nil && !listener.tcpRoutes.isEmpty
        let handler = TCPSideHandler(side: .downstream, overTLS: listener.tls != nil, inspectsServerName: inspects)
        // The original destination is read here, once per connection.
        let originalDestination = listener.originalDestination ? OriginalDestination.read(from: channel) : nil
        handler.session = TCPProxySession(listener: listener, generation: generation, loop: loop, downstream: handler,
                                          local: channel.localAddress, remote: channel.remoteAddress,
                                          originalDestination: originalDestination)
        if inspects {
            // NIO's SNIHandler reads the ClientHello, then hands on every byte it held back.
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SNIHandler { result in
                if case .hostname(let name) = result {
                    handler.serverNameInspected(name.lowercased())
                } else {
                    handler.serverNameInspected(nil)
                }
                return channel.eventLoop.makeSucceededVoidFuture()
            }))
        }
        try channel.pipeline.syncOperations.addHandler(handler)
    }
}
