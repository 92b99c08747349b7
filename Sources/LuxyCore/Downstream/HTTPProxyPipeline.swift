import LuxyConfig
import NIOCore
import NIOHTTP1
import NIOTLS

/// The handlers of a downstream HTTP connection. HTTP/1.1 and HTTP/2 share a port: on TLS the
/// ALPN result picks, on plain text the first bytes do (h2c with prior knowledge starts with
/// the connection preface). Either way each request ends in an `HTTPProxyHandler`.
enum HTTPProxyPipeline {
    static func configure(_ pipeline: ChannelPipeline.SynchronousOperations, listener: ListenerConfiguration,
                          limits: LimitsConfiguration, loop: LoopContext) throws {
        guard listener.http2.enabled else {
            return try configureHTTP1(pipeline, listener: listener, limits: limits, loop: loop)
        }
        // The selectors below call back from @Sendable closures; they run on this loop.
        let bound = NIOLoopBound(loop, eventLoop: pipeline.eventLoop)
        if listener.tls != nil {
            // ProxyServer put the TLS handler first; nothing is decoded before the handshake.
            try pipeline.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if case .negotiated("h2") = result {
                        try configureHTTP2(sync, listener: listener, limits: limits, loop: bound.value)
                    } else {
                        try configureHTTP1(sync, listener: listener, limits: limits, loop: bound.value)
                    }
                }
            })
        } else {
            try pipeline.addHandler(HTTPPrefaceSniffer(
                timeout: .milliseconds(Int64(limits.idleTimeoutMilliseconds))
            ) { isHTTP2, sync in
                if isHTTP2 {
                    try configureHTTP2(sync, listener: listener, limits: limits, loop: bound.value)
                } else {
                    try configureHTTP1(sync, listener: listener, limits: limits, loop: bound.value)
                }
            })
        }
    }

    static func configureHTTP1(_ pipeline: ChannelPipeline.SynchronousOperations, listener: ListenerConfiguration,
                               limits: LimitsConfiguration, loop: LoopContext) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        // Protocol errors are answered by HTTPProxyHandler (400 or 431), not NIO's generic 400.
        // An upgrade configuration without upgraders upgrades nothing (NIO's handler passes the
        // first request on and leaves); it is there because it makes the request decoder keep
        // what a client sent behind an upgrade request when a WebSocket tunnel removes it
        // (`HTTPUpgradeTunnel`), where it would otherwise drop it.
        try pipeline.configureHTTPServerPipeline(
            // Pipelining is HTTPProxyHandler's: NIO's handler would withhold reads (two epoll_ctl
            // calls) after every request, pipelined or not.
            withPipeliningAssistance: false, withServerUpgrade: (upgraders: [], completionHandler: { _ in }),
            // Response headers are valid by construction: parsed from the upstream by llhttp,
            // checked by the Lua host when a script sets them, or written by Luxy itself; a
            // second scan of every field on every response buys nothing.
            withErrorHandling: false, withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        try pipeline.addHandler(HTTPProxyHandler(listener: listener, loop: loop,
                                                 idleTimeout: .milliseconds(Int64(limits.idleTimeoutMilliseconds))))
    }
}
