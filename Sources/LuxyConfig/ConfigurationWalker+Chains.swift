import Yams

/// `chains:`, the Lua stages each kind of listener runs.
extension ConfigurationWalker {
    /// Every chain gets an entry, empty when absent, so consumers never need to tell nil from [].
    mutating func chains(_ node: Node?) -> [ChainName: [StageConfiguration]] {
        var chains = Dictionary(uniqueKeysWithValues: ChainName.allCases.map { ($0, [StageConfiguration]()) })
        guard let node else { return chains }
        guard case .mapping(let mapping) = node else {
            reader.report("'chains' must be a mapping", at: node)
            return chains
        }
        let expected = ChainName.allCases.map(\.rawValue).joined(separator: ", ")
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, let chain = ChainName(rawValue: scalar.string) else {
                reader.report("unknown chain '\(key.string ?? "?")'; expected one of \(expected)", at: key)
                continue
            }
            if value.isNull { continue }
            guard case .sequence(let stages) = value else {
                reader.report("chain '\(chain.rawValue)' must be a list of stages", at: value)
                continue
            }
            chains[chain] = stages.compactMap { stage($0, chain: chain) }
        }
        return chains
    }

    private mutating func stage(_ node: Node, chain: ChainName) -> StageConfiguration? {
        guard let fields = reader.fields(
            node, context: "stage",
            allowed: ["name", "priority", "config", "services", "fail_open", "disabled", "clear_route_cache",
                      "stat_prefix"],
            required: ["name"]) else { return nil }
        let name = reader.name(fields)
        if let name, let nameNode = fields.rawValue("name") {
            sources.stageNames[chain, default: []].append(.init(name: name, location: reader.location(of: nameNode)))
        }
        // Stages without a priority share 0 and then run in name order, which is deterministic.
        let priority = reader.int(fields, "priority") ?? 0
        let config = fields["config"].map { reader.configValue($0) } ?? .map([])
        let services = reader.stringList(fields, "services") ?? []
        let failOpen = reader.bool(fields, "fail_open") ?? false
        let disabled = reader.bool(fields, "disabled") ?? false
        let clearRouteCache = reader.bool(fields, "clear_route_cache") ?? true
        let statPrefix = self.statPrefix(fields)
        guard let name else { return nil }
        var stage = StageConfiguration(name: name, priority: priority, config: config, services: services,
                                       failOpen: failOpen, disabled: disabled, location: fields.location)
        stage.clearRouteCache = clearRouteCache
        stage.statPrefix = statPrefix
        if let configNode = fields["config"] { stage.configLocations = reader.configLocations(configNode) }
        return stage
    }

    /// Envoy's `stat_prefix`: the stage's counters are `<stat_prefix>.lua.executions` and
    /// `.lua.errors`. Dot-separated words of letters, digits, `_` and `-`, so the name reads
    /// the same in `/stats` and, dots made `_`, in `/metrics`.
    private mutating func statPrefix(_ fields: YAMLNodeReader.Fields) -> String? {
        guard let node = fields.rawValue("stat_prefix"), let prefix = reader.string(node, named: "stat_prefix") else {
            return nil
        }
        let words = prefix.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !prefix.isEmpty && words.allSatisfy { word in
            !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        }
        guard valid else {
            reader.report("invalid stat_prefix '\(prefix)'; use words of letters, digits, '_' or '-' separated by single dots",
                          at: node)
            return nil
        }
        return prefix
    }
}

