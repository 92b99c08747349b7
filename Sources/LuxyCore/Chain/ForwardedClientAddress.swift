import NIOCore

/// The client's address as Envoy's `xff_num_trusted_hops` makes it, for a listener at the edge
/// (Envoy's `use_remote_address: true`, which is how Luxy forwards: it appends the peer to
/// `x-forwarded-for`). With N trusted hops, the proxies in front of Luxy appended the last N
/// entries, so the client is the Nth entry from the right. Too few entries, or one that is not
/// an IP address, and the header is not trusted: the client is the connection's peer.
/// Envoy parses an XFF entry as an address without a port, so it prints as `ip:0`.
enum ForwardedClientAddress {
    /// `headerValues`: every `x-forwarded-for` line of the request, in order.
    static func resolve(headerValues: [String], trustedHops: Int) -> SocketAddress? {
        guard trustedHops > 0, !headerValues.isEmpty else { return nil }
        let entries = headerValues.joined(separator: ",").split(separator: ",", omittingEmptySubsequences: false)
        guard entries.count >= trustedHops else { return nil }
        // HTTP lists allow optional whitespace around their elements (RFC 9110 §5.6.1).
        let entry = entries[entries.count - trustedHops].trimmingHTTPSpaces()
        return try? SocketAddress(ipAddress: String(entry), port: 0)
    }
}
