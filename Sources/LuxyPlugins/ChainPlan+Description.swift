import LuxyConfig

extension ChainPlan {
    /// The chains as `luxy check`, the start-up log and the admin API print them: core stages
    /// where they sit, Lua stages with priority and file (Pipy's chain dump).
    public func describe(generation: Int?) -> String {
        var lines: [String] = []
        for chain in ChainName.allCases {
            let suffix = generation.map { "  (generation \($0))" } ?? ""
            lines.append("\(chain.rawValue)\(suffix)")
            let isHTTP = chain == .inboundHTTP || chain == .outboundHTTP
            lines.append("  [core]  \(isHTTP ? "http-routing" : "tcp-routing")")
            for stage in stages(chain) {
                var line = "  " + String(stage.priority).leftPadded(to: 5) + "   " + stage.displayPath
                if !stage.configuration.services.isEmpty {
                    line += "  services=" + stage.configuration.services.joined(separator: ",")
                }
                if stage.configuration.failOpen { line += "  fail-open" }
                lines.append(line)
            }
            lines.append("  [core]  \(isHTTP ? "http-load-balancing" : "tcp-load-balancing")\(balancingSummary(chain))")
            lines.append("  [core]  upstream")
        }
        return lines.joined(separator: "\n")
    }

    /// ` (backend: least_request, health-checked, outlier-detection; …)`: how each cluster the
    /// chain's listeners use picks endpoints and what keeps the failing ones out.
    func balancingSummary(_ chain: ChainName) -> String {
        guard let clusters = clusters[chain], !clusters.isEmpty else { return "" }
        let parts = clusters.map { cluster -> String in
            var traits = [cluster.loadBalancing.rawValue]
            if !cluster.healthChecks.isEmpty { traits.append("health-checked") }
            if cluster.outlierDetection.enabled { traits.append("outlier-detection") }
            return "\(cluster.name): " + traits.joined(separator: ", ")
        }
        return " (" + parts.joined(separator: "; ") + ")"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
