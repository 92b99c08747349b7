import NIOCore

/// Whether a handler's channel is open, as the handler saw it: kept by the handler from
/// `handlerAdded`, `channelActive` and `channelInactive`, because asking the channel
/// (`context.channel.isActive`) crosses the pipeline and the channel with their reference
/// counting, and the hot path asks on every request. NIO reports a close to the handlers
/// (`channelInactive`) within the call that closes, so this never lags the channel's own view
/// on the handler's loop.
///
/// A value; kept by a loop-confined handler.
enum ChannelOpenness {
    /// Added before the channel connected (a client channel's initializer runs first).
    case notYetActive
    case open
    /// Inactive, or the handler left the pipeline.
    case closed

    /// As the channel is when the handler joins it.
    init(joining context: ChannelHandlerContext) {
        self = context.channel.isActive ? .open : .notYetActive
    }

    var isOpen: Bool { self == .open }

    /// `channelActive`: only a channel not yet active becomes open (a closed one stays closed).
    mutating func becameActive() {
        if case .notYetActive = self { self = .open }
    }
}
