import ArgumentParser
import Foundation
import LuxyCapture

/// `luxy iptables`: the transparent-capture rules, as the init container runs it: printed by
/// default, installed with `--apply`, removed with `--clean`. Flags only, no config file.
struct IptablesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iptables",
        abstract: "Print, apply (--apply) or remove (--clean) the iptables rules that redirect a pod's TCP traffic to Luxy.",
        discussion: "Run as the init container: luxy iptables --apply --proxy-uid 1337 --inbound-port 15006 --outbound-port 15001")

    @Flag(help: "Install the rules (needs NET_ADMIN). Applying again leaves the same rules.")
    var apply = false

    @Flag(help: "Remove the rules and Luxy's chains; other rules stay.")
    var clean = false

    @Option(help: "Where inbound TCP is redirected (the inbound listener with original_destination).")
    var inboundPort = 15006

    @Option(help: "Where outbound TCP is redirected (the outbound listener with original_destination).")
    var outboundPort = 15001

    @Option(help: "The UID Luxy runs as; its own connections are never captured.")
    var proxyUid = 1337

    @Option(help: "The GID Luxy runs as; its own connections are never captured.")
    var proxyGid = 1337

    @Option(help: "Inbound ports not captured, comma-separated (e.g. 22,15090).")
    var excludeInboundPorts = ""

    @Option(help: "Outbound destination ports not captured, comma-separated.")
    var excludeOutboundPorts = ""

    @Option(help: "Outbound destinations not captured, comma-separated CIDRs.")
    var excludeOutboundCidrs = ""

    @Option(help: "Outbound destinations captured, comma-separated CIDRs; '*' (the default) is all.")
    var includeOutboundCidrs = "*"

    @Flag(help: "Also capture IPv6 (ip6tables).")
    var ipv6 = false

    func validate() throws {
        if apply, clean { throw ValidationError("give --apply or --clean, not both") }
        _ = try options()
    }

    func run() throws {
        let rules = CaptureRules(options: try options())
        guard apply || clean else {
            print("# iptables-restore --noflush", terminator: "\n")
            print(rules.restoreInput(ipv6: false), terminator: "")
            if ipv6 {
                print("# ip6tables-restore --noflush", terminator: "\n")
                print(rules.restoreInput(ipv6: true), terminator: "")
            }
            return
        }
        do {
            let families: [CaptureTables.Family] = ipv6 ? [.ipv4, .ipv6] : [.ipv4]
            for family in families {
                let tables = try CaptureTables(family: family)
                if apply { try tables.apply(rules) } else { try tables.clean() }
            }
            print(apply ? "luxy iptables: capture rules applied" : "luxy iptables: capture rules removed")
        } catch {
            printError("luxy iptables: \(error)")
            throw ExitCode(1)
        }
    }

    private func options() throws -> CaptureOptions {
        var options = CaptureOptions()
        options.inboundPort = try Self.port(inboundPort, flag: "--inbound-port")
        options.outboundPort = try Self.port(outboundPort, flag: "--outbound-port")
        guard proxyUid >= 0, proxyGid >= 0 else { throw ValidationError("--proxy-uid and --proxy-gid must be 0 or more") }
        options.proxyUID = proxyUid
        options.proxyGID = proxyGid
        options.excludeInboundPorts = try Self.ports(excludeInboundPorts, flag: "--exclude-inbound-ports")
        options.excludeOutboundPorts = try Self.ports(excludeOutboundPorts, flag: "--exclude-outbound-ports")
        options.excludeOutboundCIDRs = try Self.cidrs(excludeOutboundCidrs, flag: "--exclude-outbound-cidrs")
        options.includeOutboundCIDRs = includeOutboundCidrs.trimmingCharacters(in: .whitespaces) == "*"
            ? [] : try Self.cidrs(includeOutboundCidrs, flag: "--include-outbound-cidrs")
        return options
    }

    private static func items(_ list: String) -> [String] {
        list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func port(_ value: Int, flag: String) throws -> Int {
        guard (1...65_535).contains(value) else { throw ValidationError("\(flag): \(value) is not a port (1-65535)") }
        return value
    }

    private static func ports(_ list: String, flag: String) throws -> [Int] {
        try items(list).map { item in
            guard let value = Int(item) else { throw ValidationError("\(flag): '\(item)' is not a port") }
            return try port(value, flag: flag)
        }
    }

    private static func cidrs(_ list: String, flag: String) throws -> [CaptureCIDR] {
        try items(list).map { item in
            guard let cidr = CaptureCIDR(item) else {
                throw ValidationError("\(flag): '\(item)' is not an address or CIDR (10.0.0.0/8, fd00::/8)")
            }
            return cidr
        }
    }
}
