import LuxyConfig
import NIOCore
import NIOHTTP1
import NIOTLS

/// The handlers of a downstream HTTP connection. HTTP/1.1 and HTTP/2 share a port: on TLS the
/// ALPN result picks, on plain text the first bytes do (h2c with prior knowledge starts with
/// the connection preface). Either way each request ends in an `HTTPProxyHandler`.
enum HTTPProxyPipeline {
    /// `peer`: the connection's addresses when read at accept (a listener restoring original
    /// destinations); else each connection reads them at its first request.
    static func configure(_ pipeline: ChannelPipeline.SynchronousOperations, listener: ListenerConfiguration,
                          limits: LimitsConfiguration, loop: LoopContext, peer: ConnectionPeer? = nil) throws {
        if listener.tls != nil {
            // ProxyServer put the TLS handlers first: until the handshake completes nothing
            // else here bounds the wait.
            try pipeline.addHandler(TLSHandshakeDeadline(
                timeout: .milliseconds(Int64(limits.requestHeaderTimeoutMilliseconds)), stats: loop.stats))
        }
        guard listener.http2.enabled else {
            return try configureHTTP1(pipeline, listener: listener, limits: limits, loop: loop, peer: peer)
        }
        // The selectors below call back from @Sendable closures; they run on this loop.
        let bound = NIOLoopBound(loop, eventLoop: pipeline.eventLoop)
        let boundPeer = NIOLoopBound(peer, eventLoop: pipeline.eventLoop)
        if listener.tls != nil {
            // ProxyServer put the TLS handler first; nothing is decoded before the handshake.
            try pipeline.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if case .negotiated("h2") = result {
                        try configureHTTP2(sync, listener: listener, limits: limits, loop: bound.value,
                                           peer: boundPeer.value)
                    } else {
                        try configureHTTP1(sync, listener: listener, limits: limits, loop: bound.value,
                                           peer: boundPeer.value)
                    }
                }
            })
        } else {
            // The first request's head clock starts with the connection: a client that sends
            // nothing, or too little to tell the protocol, is bounded by it too.
            let opened = pipeline.eventLoop.now
            try pipeline.addHandler(HTTPPrefaceSniffer(
                timeout: .milliseconds(Int64(limits.requestHeaderTimeoutMilliseconds)), stats: loop.stats
            ) { isHTTP2, sync in
                if isHTTP2 {
                    try configureHTTP2(sync, listener: listener, limits: limits, loop: bound.value, peer: boundPeer.value)
                } else {
                    try configureHTTP1(sync, listener: listener, limits: limits, loop: bound.value, opened: opened,
                                       peer: boundPeer.value)
                }
            })
        }
    }

    /// `opened`: when the first request's head clock started (now when nil: after a TLS
    /// handshake, which has bounds of its own).
    static func configureHTTP1(_ pipeline: ChannelPipeline.SynchronousOperations, listener: ListenerConfiguration,
                               limits: LimitsConfiguration, loop: LoopContext, opened: NIODeadline? = nil,
                               peer: ConnectionPeer? = nil) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        // The parser stops at the limit, so 50,000 empty fields never become 50,000 entries.
        // (Trailers count too; `RequestHeadValidator` checks the head again, for h2 streams.)
        decoderLimits.maxHeaderFieldCount = limits.maxHeaderCount
        // Two handlers: NIO's llhttp decoder, and HTTPProxyHandler, which writes responses as
        // bytes itself (no encoder handler to pass every part through), answers protocol
        // errors (400 or 431, not NIO's generic 400) and does the pipelining (NIO's handler
        // would withhold reads, two epoll_ctl calls, after every request). Bytes a client
        // sends behind an upgrade request stay with the decoder and are handed on when a
        // WebSocket tunnel removes it (`HTTPUpgradeTunnel`).
        // The common request is read in front of the decoder (`RequestFastPath`); the first
        // other one hands the connection to it.
        let handler = HTTPProxyHandler(listener: listener, loop: loop, timeouts: DownstreamTimeouts(limits: limits),
                                       opened: opened, peer: peer)
        let fastPath = RequestFastPath(handler: handler, maxHeadBytes: limits.maxHeaderBytes,
                                       maxFields: limits.maxHeaderCount, strings: loop.fieldStrings)
        try pipeline.addHandler(HTTP09Refusal(stats: loop.stats))
        try pipeline.addHandler(fastPath)
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(
            leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .drop,
            limitConfiguration: decoderLimits)))
        try pipeline.addHandler(handler)
        // Responses are written from in front of the decoder and the fast path (see `outbound`).
        handler.outbound = try pipeline.context(handler: fastPath)
    }
}
