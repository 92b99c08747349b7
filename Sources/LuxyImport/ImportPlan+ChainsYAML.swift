import Foundation
import LuxyConfig

/// The `chains:` block, ready to paste into `luxy.yaml` (and what `chains.yaml` holds).
extension ImportPlan {
    public var chainsYAML: String {
        var lines = [
            "# Imported from \((inputFile as NSString).lastPathComponent) by `luxy import envoyfilter`.",
            "# Higher priority runs first on requests, as earlier filters do in Envoy.",
            "# Envoy continues after a Lua error; Luxy answers 500 unless a stage has fail_open: true.",
        ]
        let chains = [ChainName.inboundHTTP, .outboundHTTP].filter { chain in chainEntries.contains { $0.chain == chain } }
        guard !chains.isEmpty else { return (lines + ["chains: {}"]).joined(separator: "\n") + "\n" }
        lines.append("chains:")
        for chain in chains {
            lines.append("  \(chain.rawValue):")
            for entry in chainEntries where entry.chain == chain {
                lines.append("    # \(entry.origin): \(entry.placement)")
                lines.append("    - name: \(entry.name)")
                lines.append("      priority: \(entry.priority)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
