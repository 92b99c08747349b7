import NIOCore

/// The last handler of a downstream HTTP/2 connection, there so a graceful drain reaches it:
/// its streams are not tracked one by one (they end with the connection), the connection is.
/// Quiescing hands NIO's connection manager a `ChannelShouldQuiesceEvent`, which sends
/// GOAWAY, lets open streams finish, then closes.
final class HTTP2ServerConnection: ChannelInboundHandler, DrainableConnection {
    typealias InboundIn = Any

    private let loop: LoopContext
    private let streamDeadlines: HTTP2StreamDeadlines
    private(set) var context: ChannelHandlerContext?

    init(loop: LoopContext, streamDeadlines: HTTP2StreamDeadlines) {
        self.loop = loop
        self.streamDeadlines = streamDeadlines
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loop.connections[ObjectIdentifier(self)] = self
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        loop.connections[ObjectIdentifier(self)] = nil
        streamDeadlines.connectionClosed()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        loop.connections[ObjectIdentifier(self)] = nil
        streamDeadlines.connectionClosed()
        context.fireChannelInactive()
    }

    /// What reaches the connection is a protocol error NIO answered already (GOAWAY, or
    /// RST_STREAM for a stream error) — rapid reset, CONTINUATION flood, a bad header block.
    /// NIO leaves the socket open; a misbehaving peer should not keep it, so it closes, as
    /// Envoy does by default (`stream_error_on_invalid_http_messaging: false`).
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        loop.stats.increment("downstream_http2_protocol_errors")
        context.close(promise: nil)
    }

    func quiesce() {
        context?.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
}

@available(*, unavailable)
extension HTTP2ServerConnection: Sendable {}
