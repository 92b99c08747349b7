/// The nat-table rules of transparent capture, as `iptables-restore` reads them: the chain
/// layout of istio-iptables with Luxy's names.
///
/// ```
/// PREROUTING -p tcp → LUXY_INBOUND → (excluded ports RETURN) → LUXY_IN_REDIRECT → REDIRECT inbound port
/// OUTPUT     -p tcp → LUXY_OUTPUT  → (proxy UID/GID, loopback, excluded ports and CIDRs RETURN)
///                                  → LUXY_REDIRECT → REDIRECT outbound port
/// ```
///
/// Only Luxy's four chains are written whole; `PREROUTING` and `OUTPUT` get one jump rule
/// each, which `CaptureCommands` removes before applying again, so applying twice leaves the
/// same rules. A value; no state.
public struct CaptureRules: Sendable {
    public static let inboundChain = "LUXY_INBOUND"
    public static let outputChain = "LUXY_OUTPUT"
    public static let redirectChain = "LUXY_REDIRECT"
    public static let inboundRedirectChain = "LUXY_IN_REDIRECT"
    public static let chains = [inboundChain, redirectChain, inboundRedirectChain, outputChain]

    /// The built-in chains' jump rules (without `-A chain`), for adding and for removing.
    public static let jumps = [
        CaptureJump(chain: "PREROUTING", rule: ["-p", "tcp", "-j", inboundChain]),
        CaptureJump(chain: "OUTPUT", rule: ["-p", "tcp", "-j", outputChain]),
    ]

    public let options: CaptureOptions

    public init(options: CaptureOptions) {
        self.options = options
    }

    /// The `iptables-restore --noflush` input for one family: declaring a chain flushes it, so
    /// Luxy's chains are written from scratch and nothing else in the table is touched.
    public func restoreInput(ipv6: Bool) -> String {
        var lines = ["*nat"]
        lines += Self.chains.map { ":\($0) - [0:0]" }
        lines += inboundRules().map { "-A \(Self.inboundChain) \($0)" }
        lines.append("-A \(Self.redirectChain) -p tcp -j REDIRECT --to-ports \(options.outboundPort)")
        lines.append("-A \(Self.inboundRedirectChain) -p tcp -j REDIRECT --to-ports \(options.inboundPort)")
        lines += outputRules(ipv6: ipv6).map { "-A \(Self.outputChain) \($0)" }
        lines += Self.jumps.map { "-A \($0.chain) \($0.rule.joined(separator: " "))" }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    private func inboundRules() -> [String] {
        var rules = options.excludeInboundPorts.map { "-p tcp --dport \($0) -j RETURN" }
        rules.append("-p tcp -j \(Self.inboundRedirectChain)")
        return rules
    }

    /// istio-iptables' ISTIO_OUTPUT, but for one rule: Istio sends the proxy's own
    /// connections to the pod's address back through inbound capture (`-o lo ! -d 127.0.0.1
    /// --uid-owner 1337 → ISTIO_IN_REDIRECT`) and keeps Envoy's inbound forwarding out of it
    /// by binding that to the source 127.0.0.6. Luxy forwards inbound traffic from its own
    /// UID to the pod's address, so that rule would send it back to itself: every connection
    /// of the proxy's UID is left alone (docs/transparent-capture.md, "Loops and hairpins").
    private func outputRules(ipv6: Bool) -> [String] {
        let loopback = ipv6 ? "::1/128" : "127.0.0.1/32"
        var rules = options.excludeOutboundPorts.map { "-p tcp --dport \($0) -j RETURN" }
        // The application talking to itself over loopback (its own pod address included) is
        // not the mesh's business; the proxy's own connections never are.
        rules.append("-o lo -m owner ! --uid-owner \(options.proxyUID) -j RETURN")
        rules.append("-m owner --uid-owner \(options.proxyUID) -j RETURN")
        rules.append("-o lo -m owner ! --gid-owner \(options.proxyGID) -j RETURN")
        rules.append("-m owner --gid-owner \(options.proxyGID) -j RETURN")
        rules.append("-d \(loopback) -j RETURN")
        rules += options.excludeOutboundCIDRs.filter { $0.isIPv6 == ipv6 }.map { "-d \($0) -j RETURN" }
        let included = options.includeOutboundCIDRs.filter { $0.isIPv6 == ipv6 }
        if options.includeOutboundCIDRs.isEmpty {
            rules.append("-j \(Self.redirectChain)")
        } else {
            // Only the listed blocks: whatever falls off the chain's end is not captured.
            rules += included.map { "-d \($0) -j \(Self.redirectChain)" }
        }
        return rules
    }
}

/// A jump from a built-in chain into one of Luxy's.
public struct CaptureJump: Sendable, Equatable {
    public let chain: String
    public let rule: [String]
}
