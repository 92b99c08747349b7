/// What `luxy iptables` captures and what it leaves alone: the flags of istio-iptables that
/// Luxy's sidecar needs, with Luxy's defaults. A value; no state.
public struct CaptureOptions: Sendable, Equatable {
    /// Where inbound TCP is redirected: the `inbound` listener with `original_destination`.
    public var inboundPort = 15006
    /// Where outbound TCP is redirected: the `outbound` listener with `original_destination`.
    public var outboundPort = 15001
    /// The proxy's own traffic is never captured (it would loop). 1337, as Istio.
    public var proxyUID = 1337
    public var proxyGID = 1337
    /// Inbound ports left to reach the application directly (`ssh`, a metrics port).
    public var excludeInboundPorts: [Int] = []
    /// Outbound destination ports never captured.
    public var excludeOutboundPorts: [Int] = []
    /// Outbound destinations never captured.
    public var excludeOutboundCIDRs: [CaptureCIDR] = []
    /// Outbound destinations captured; empty means all.
    public var includeOutboundCIDRs: [CaptureCIDR] = []

    public init() {}
}

/// An address block given to `--exclude-outbound-cidrs` / `--include-outbound-cidrs`:
/// `10.0.0.0/8`, `fd00::/8`; a bare address is one host.
public struct CaptureCIDR: Sendable, Equatable, CustomStringConvertible {
    public let address: String
    public let prefixLength: Int

    public var isIPv6: Bool { address.contains(":") }
    public var description: String { "\(address)/\(prefixLength)" }

    /// nil when `text` is not an address with an optional `/length` in range.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parts.first.map(String.init), !address.isEmpty else { return nil }
        let isIPv6 = address.contains(":")
        if isIPv6 {
            guard address.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            let octets = address.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ octet in
                guard let value = Int(octet), octet.allSatisfy(\.isASCII) else { return false }
                return (0...255).contains(value)
            }) else { return nil }
        }
        let maximum = isIPv6 ? 128 : 32
        var length = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            length = value
        }
        self.address = address
        self.prefixLength = length
    }
}
