#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The address a redirected connection was sent to before iptables `REDIRECT` changed it to
/// the listener's: Linux's `SO_ORIGINAL_DST` (`SOL_IP`, 80) for IPv4 and
/// `IP6T_SO_ORIGINAL_DST` (`SOL_IPV6`, 80) for IPv6, answered from the conntrack entry.
///
/// Read once per accepted connection, on its loop, through NIO's socket option call (the
/// kernel fills a `sockaddr_in` or `sockaddr_in6`, which the `sockaddr_in6` buffer holds
/// either way). A connection that was not redirected has no NAT entry (`ENOENT`), or the
/// host has no conntrack at all (`ENOPROTOOPT`): its original destination is the address it
/// reached, the channel's local address.
///
/// No state: called on the accepted channel's loop.
enum OriginalDestination {
    /// Both `SO_ORIGINAL_DST` (linux/netfilter_ipv4.h) and `IP6T_SO_ORIGINAL_DST`
    /// (linux/netfilter_ipv6/ip6_tables.h).
    static let optionName: Int32 = 80
    static let solIP: Int32 = 0
    static let solIPv6: Int32 = 41

    /// The original destination of the accepted connection on `channel` (an HTTP/2 stream's
    /// parent connection for a stream), else its local address.
    static func read(from channel: Channel) -> SocketAddress? {
        let local = channel.localAddress
        #if os(Linux)
        guard let provider = channel as? SocketOptionProvider, let local else { return local }
        let level: Int32
        switch local {
        case .v4: level = solIP
        // An IPv4 connection on a dual-stack `[::]` listener (a `::ffff:` mapped address) has
        // an IPv4 NAT entry: asked at SOL_IP, the kernel answers from it.
        case .v6: level = isIPv4Mapped(local) ? solIP : solIPv6
        default: return local
        }
        // In the channel's loop the call completes before it returns.
        var restored: SocketAddress?
        let answer: EventLoopFuture<sockaddr_in6> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(level), name: SocketOptionName(optionName))
        answer.assumeIsolated().whenSuccess { restored = parse($0) }
        return restored ?? local
        #else
        return local
        #endif
    }

    static func isIPv4Mapped(_ address: SocketAddress) -> Bool {
        guard case .v6(let v6) = address else { return false }
        return withUnsafeBytes(of: v6.address.sin6_addr) { bytes in
            bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
        }
    }

    /// The address the kernel wrote: a `sockaddr_in` (family `AF_INET`) or a `sockaddr_in6`,
    /// both in the buffer of the larger one. nil for any other family.
    static func parse(_ storage: sockaddr_in6) -> SocketAddress? {
        var storage = storage
        return withUnsafeBytes(of: &storage) { raw -> SocketAddress? in
            let family = raw.load(fromByteOffset: 0, as: sa_family_t.self)
            switch Int32(family) {
            case AF_INET:
                return SocketAddress(raw.load(as: sockaddr_in.self))
            case AF_INET6:
                return SocketAddress(raw.load(as: sockaddr_in6.self))
            default:
                return nil
            }
        }
    }
}
