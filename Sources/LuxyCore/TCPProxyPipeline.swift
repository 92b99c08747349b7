import LuxyConfig
import NIOCore

/// The handlers of a downstream connection on a tcp listener.
enum TCPProxyPipeline {
    /// `generation` is the one the connection keeps to its end (its chains and clusters).
    static func configure(_ channel: Channel, listener: ListenerConfiguration, generation: LoopGeneration,
                          loop: LoopContext) throws {
        // A client that shuts its output still reads the rest of the answer (over TLS, once
        // the handshake completed: `TCPSideHandler`).
        if listener.tls == nil { try channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true) }
        let handler = TCPSideHandler(side: .downstream, overTLS: listener.tls != nil)
        handler.session = TCPProxySession(listener: listener, generation: generation, loop: loop, downstream: handler,
                                          local: channel.localAddress, remote: channel.remoteAddress)
        try channel.pipeline.syncOperations.addHandler(handler)
    }
}
