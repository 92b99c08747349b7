import NIOCore

/// The two ends of a downstream connection, read once per connection: NIO guards the
/// addresses with a lock on every access, and the client's address text (for
/// `x-forwarded-for`) costs a formatting.
final class ConnectionPeer {
    let local: SocketAddress?
    let remote: SocketAddress?
    private(set) lazy var remoteIP: String? = remote?.ipAddress

    init(local: SocketAddress?, remote: SocketAddress?) {
        self.local = local
        self.remote = remote
    }
}

@available(*, unavailable)
extension ConnectionPeer: Sendable {}
