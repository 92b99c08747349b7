import NIOCore

/// The two ends of a downstream connection, read once per connection: NIO guards the
/// addresses with a lock on every access, and the client's address text (for
/// `x-forwarded-for`) costs a formatting.
///
/// On a listener with `original_destination`, `local` is the restored original destination
/// (Envoy's `downstreamLocalAddress` once `use_original_dst` restored it) and
/// `directLocal` the socket's own address (the listener's port after the redirect).
///
/// Loop-confined: made and read on the connection's loop.
final class ConnectionPeer {
    let local: SocketAddress?
    let remote: SocketAddress?
    let directLocal: SocketAddress?
    /// The original destination read at accept; nil on a listener that does not read it.
    let originalDestination: SocketAddress?
    private(set) lazy var remoteIP: String? = remote?.ipAddress
    /// The addresses as Envoy prints them, formatted when a script first asks, once per connection.
    private(set) lazy var addressTexts = DownstreamAddressTexts(
        remote: remote?.envoyDescription ?? "", local: local?.envoyDescription ?? "",
        directLocal: directLocal?.envoyDescription ?? local?.envoyDescription ?? "")

    init(local: SocketAddress?, remote: SocketAddress?, originalDestination: SocketAddress? = nil) {
        self.local = originalDestination ?? local
        self.directLocal = local
        self.remote = remote
        self.originalDestination = originalDestination
    }

    /// At accept, for a listener that reads original destinations.
    convenience init(acceptedOn channel: Channel) {
        self.init(local: channel.localAddress, remote: channel.remoteAddress,
                  originalDestination: OriginalDestination.read(from: channel))
    }
}

@available(*, unavailable)
extension ConnectionPeer: Sendable {}
