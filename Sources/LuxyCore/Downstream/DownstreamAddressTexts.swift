import NIOCore

/// A downstream connection's addresses as Envoy prints them (`streamInfo()`, access logs):
/// formatted once per connection rather than for each request that asks.
public struct DownstreamAddressTexts: Sendable {
    /// The client's end.
    public let remote: String
    /// The original destination on a listener that restores it, else the socket's address.
    public let local: String
    /// The socket's own address, whatever was restored.
    public let directLocal: String
}

extension SocketAddress {
    /// `ip:port`, or `[ip]:port` for IPv6, as Envoy prints addresses.
    public var envoyDescription: String {
        guard let ip = ipAddress, let port else { return pathname ?? "" }
        if case .v6 = self { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
