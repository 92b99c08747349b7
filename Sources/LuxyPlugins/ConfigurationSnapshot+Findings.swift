import LuxyConfig
import LuxyLua

extension ConfigurationSnapshot {
    /// What `luxy check` reports beyond load errors: the libraries each script requires and the
    /// plugins that can never run. Loads every script once more, in a VM of its own, so the
    /// running proxy never pays for it; a snapshot has loaded them all before, so a script
    /// that fails here (it cannot, short of a changed file) is left out.
    public func inspect() -> CheckReport {
        var report = CheckReport()
        report.findings = Self.findings(for: configuration)
        guard let vm = try? LuaVM(limits: LuaLimits(configuration.limits), libraries: plan.libraries) else { return report }
        defer { vm.close() }
        for (chain, stage) in plan.allStages {
            guard let script = try? vm.loadScript(name: stage.name, chunkName: stage.displayPath, source: stage.source,
                                                  config: stage.configuration.config) else { continue }
            report.findings += Self.findings(for: script, stage: stage, chain: chain)
        }
        report.requires = vm.requires()
        return report
    }

    /// What makes a loaded script useless where it stands: no phase function for its chain's
    /// kind (an error: it would never run), and functions named like a phase that is none,
    /// such as `envoy_on_requests` (a warning, with the nearest real name).
    static func findings(for script: LuaScript, stage: ResolvedStage, chain: ChainName) -> [CheckFinding] {
        var findings: [CheckFinding] = []
        let isHTTP = chain == .inboundHTTP || chain == .outboundHTTP
        let expected = isHTTP ? LuaScript.httpEntryPoints : LuaScript.tcpEntryPoints
        for function in script.strayEntryPoints() {
            findings.append(CheckFinding(.warning, "\(stage.path):\(function.line): '\(function.name)' is not an entry "
                + "point, so it is never called" + NameSuggestion.hint(for: function.name,
                                                                        among: LuaScript.httpEntryPoints + LuaScript.tcpEntryPoints)))
        }
        if !script.handlesAnyPhase(http: isHTTP) {
            let other = script.handlesAnyPhase(http: !isHTTP) ? " (it defines only \(isHTTP ? "tcp" : "HTTP") entry points)" : ""
            findings.append(CheckFinding(.error, "\(stage.configuration.location): stage '\(stage.name)' in \(chain.rawValue): "
                + "\(stage.path) defines none of \(expected.joined(separator: ", "))\(other), so it never runs"))
        }
        return findings
    }

    /// A configuration with no listener accepts nothing. A warning, not an error: a file of
    /// chains alone (what `luxy import` writes) is checked for its scripts.
    static func findings(for configuration: LuxyConfiguration) -> [CheckFinding] {
        guard configuration.listeners.isEmpty else { return [] }
        return [CheckFinding(.warning, "\(configuration.sourceFile):1: no listeners: this configuration accepts no "
            + "connections (add a 'listeners:' list)")]
    }
}
