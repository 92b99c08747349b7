import NIOCore

/// A downstream connection a graceful shutdown waits for: told to wind down (`quiesce`),
/// closed through `context` when the drain time is up.
protocol DrainableConnection: AnyObject {
    var context: ChannelHandlerContext? { get }
    func quiesce()
}

extension HTTPProxyHandler: DrainableConnection {}
