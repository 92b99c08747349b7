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
        guard !chains.isEmpty else { return (lines + ["chains: {}"] + perRouteComment).joined(separator: "\n") + "\n" }
        lines.append("chains:")
        for chain in chains {
            lines.append("  \(chain.rawValue):")
            for entry in chainEntries where entry.chain == chain {
                lines.append("    # \(entry.origin): \(entry.placement)")
                lines.append("    - name: \(entry.name)")
                lines.append("      priority: \(entry.priority)")
            }
        }
        return (lines + perRouteComment).joined(separator: "\n") + "\n"
    }

    /// The `per_stage:` settings, as comments: they belong on routes in `virtual_hosts:`,
    /// which this file does not have (it must stay a valid config by itself).
    private var perRouteComment: [String] {
        guard !perRouteSettings.isEmpty else { return [] }
        var lines = [
            "",
            "# Per-route Lua settings (Envoy's LuaPerRoute). Luxy cannot place them itself: add each",
            "# per_stage: to the route (or virtual host) named, under virtual_hosts: in luxy.yaml.",
        ]
        for setting in perRouteSettings {
            lines.append("# \(setting.origin): \(setting.target):")
            lines.append("#   \(setting.perStageYAML)")
        }
        return lines
    }
}
