/// Checks that need the whole file: unique names, references to clusters, clashing addresses.
/// Per-value checks (ranges, regexes) happen while walking, next to the value.
struct ConfigurationValidator {
    let sources: ConfigurationSourceMap

    func problems() -> [ConfigurationError.Problem] {
        var problems: [ConfigurationError.Problem] = []
        problems += duplicates(sources.listenerNames) { "duplicate listener name '\($0)'" }
        problems += duplicates(sources.clusterNames) { "duplicate cluster name '\($0)'" }
        for chain in ChainName.allCases {
            problems += duplicates(sources.stageNames[chain] ?? []) {
                "duplicate stage '\($0)' in chain '\(chain.rawValue)'"
            }
        }
        problems += unknownClusters()
        problems += unknownStages()
        problems += clashingAddresses()
        return problems
    }

    /// Reports every repeat, pointing back at the first so the user sees both.
    private func duplicates(_ names: [ConfigurationSourceMap.Named], message: (String) -> String)
        -> [ConfigurationError.Problem] {
        var first: [String: SourceLocation] = [:]
        var problems: [ConfigurationError.Problem] = []
        for entry in names {
            if let earlier = first[entry.name] {
                problems.append(.init(location: entry.location,
                                      message: "\(message(entry.name)) (first defined at line \(earlier.line))"))
            } else {
                first[entry.name] = entry.location
            }
        }
        return problems
    }

    private func unknownClusters() -> [ConfigurationError.Problem] {
        let known = Set(sources.clusterNames.map(\.name))
        return sources.clusterReferences.filter { !known.contains($0.cluster) }.map {
            .init(location: $0.location, message: "\($0.owner): unknown cluster '\($0.cluster)'")
        }
    }

    private func unknownStages() -> [ConfigurationError.Problem] {
        sources.stageReferences.filter { reference in
            !(sources.stageNames[reference.chain] ?? []).contains { $0.name == reference.stage }
        }.map {
            .init(location: $0.location,
                  message: "\($0.owner): per_stage names '\($0.stage)', which is not a stage of chain '\($0.chain.rawValue)'")
        }
    }

    /// Port 0 asks the OS for a free port, so two of them never clash.
    private func clashingAddresses() -> [ConfigurationError.Problem] {
        var taken: [String: String] = [:]
        var problems: [ConfigurationError.Problem] = []
        for address in sources.addresses where address.port != 0 {
            let key = "\(address.host.lowercased()):\(address.port)"
            if let owner = taken[key] {
                problems.append(.init(location: address.location,
                                      message: "\(address.owner): address \(Self.display(address)) is already used by \(owner)"))
            } else {
                taken[key] = address.owner
            }
        }
        return problems
    }

    private static func display(_ address: ConfigurationSourceMap.Address) -> String {
        address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
    }
}
