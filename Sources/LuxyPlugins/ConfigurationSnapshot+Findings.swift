import LuxyConfig
import LuxyLua

extension ConfigurationSnapshot {
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
