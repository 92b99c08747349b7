import LuxyConfig
import NIOCore
import NIOHTTP2

extension HTTPProxyPipeline {
    /// An HTTP/2 connection: NIO's frame handler with the listener's limits, its connection
    /// manager (idle timeout, graceful GOAWAY on drain), and per stream the HTTP/1-style codec
    /// in front of the same `HTTPProxyHandler` HTTP/1.1 uses, so stages see one request type.
    ///
    /// Bounds of Luxy's own: a header block left open (`HTTP2HeaderBlockGuard`, the request
    /// header timeout) and streams idle either way (`HTTP2StreamDeadlines`, which also keeps the streams' upstream
    /// request timeouts on the connection's one timer).
    ///
    /// NIO's DoS protections stay at their defaults: rapid reset (at most 200 RST_STREAM per
    /// 30 s), CONTINUATION floods (at most 5 in a row), empty DATA frames, control frame
    /// floods, and the connection glitch budget.
    static func configureHTTP2(_ pipeline: ChannelPipeline.SynchronousOperations, listener: ListenerConfiguration,
                               limits: LimitsConfiguration, loop: LoopContext, peer: ConnectionPeer? = nil) throws {
        let settings = listener.http2
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: settings.maxConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: settings.initialWindowSize),
            HTTP2Setting(parameter: .maxHeaderListSize, value: settings.maxHeaderListSize),
            // Luxy never pushes.
            HTTP2Setting(parameter: .enablePush, value: 0),
        ]
        // The connection window must not throttle the streams it carries below their own window.
        connection.targetWindowSize = max(settings.initialWindowSize, 1 << 20)
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = settings.initialWindowSize

        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: pipeline.eventLoop,
            configuration: .init(maxIdleTime: .milliseconds(Int64(limits.idleTimeoutMilliseconds)), maxAge: nil,
                                 maxGraceTime: nil, keepalive: nil))
        let bound = NIOLoopBound(loop, eventLoop: pipeline.eventLoop)
        // The streams share the connection's addresses (and its original destination), read
        // at the first stream when not at accept: not once per stream.
        let sharedPeer = NIOLoopBound(SharedConnectionPeer(peer), eventLoop: pipeline.eventLoop)
        let deadlines = HTTP2StreamDeadlines(
            idleTimeout: .milliseconds(Int64(limits.streamIdleTimeoutMilliseconds)), eventLoop: pipeline.eventLoop)
        let streamDeadlines = NIOLoopBound(deadlines, eventLoop: pipeline.eventLoop)
        let handler = NIOHTTP2Handler(
            mode: .server, eventLoop: pipeline.eventLoop, connectionConfiguration: connection,
            streamConfiguration: stream, streamDelegate: manager.http2StreamDelegate
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                let sync = streamChannel.pipeline.syncOperations
                try sync.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                let peer = sharedPeer.value.peer(of: streamChannel.parent ?? streamChannel)
                try sync.addHandler(HTTPProxyHandler(listener: listener, loop: bound.value, isHTTP2Stream: true,
                                                     streamDeadlines: streamDeadlines.value, peer: peer))
            }
        }
        // In front of NIO's handler, on the bytes: a header block left unfinished has no
        // stream yet for anything else to bound.
        try pipeline.addHandler(HTTP2HeaderBlockGuard(
            timeout: .milliseconds(Int64(limits.requestHeaderTimeoutMilliseconds)), stats: loop.stats))
        try pipeline.addHandler(handler)
        try pipeline.addHandler(manager)
        try pipeline.addHandler(HTTP2ServerConnection(loop: loop, streamDeadlines: deadlines))
    }
}

/// The addresses of an h2 connection, read once for all its streams (NIO locks them on every
/// read, and the client's address text is formatted once).
///
/// Loop-confined: made and read on the connection's loop.
private final class SharedConnectionPeer {
    private var peer: ConnectionPeer?

    init(_ peer: ConnectionPeer?) {
        self.peer = peer
    }

    func peer(of connection: Channel) -> ConnectionPeer {
        if let peer { return peer }
        let peer = ConnectionPeer(local: connection.localAddress, remote: connection.remoteAddress)
        self.peer = peer
        return peer
    }
}
