import Yams

/// `per_stage:` on routes and virtual hosts, and the routes' header edits.
extension ConfigurationWalker {
    /// `per_stage: { NAME: { disabled: true | script: OTHER | config: {...} } }`.
    mutating func stageOverrides(_ fields: YAMLNodeReader.Fields, owner: String) -> [String: StageOverride] {
        guard let node = fields["per_stage"] else { return [:] }
        guard case .mapping(let mapping) = node else {
            reader.report("'per_stage' must be a mapping of stage names to settings", at: node)
            return [:]
        }
        var overrides: [String: StageOverride] = [:]
        for (key, value) in mapping {
            guard let stage = reader.string(key, named: "per_stage") else { continue }
            guard let entry = reader.fields(value, context: "per_stage entry '\(stage)'",
                                            allowed: ["disabled", "script", "config"]) else { continue }
            var override = StageOverride(location: reader.location(of: key))
            override.disabled = reader.bool(entry, "disabled") ?? false
            override.script = reader.string(entry, "script")
            override.context = entry["config"].map { reader.configValue($0) }
            if override.disabled, override.script != nil, let scriptKey = entry.keyNode("script") {
                reader.report("per_stage entry '\(stage)': 'script' has no effect on a disabled stage", at: scriptKey)
            }
            if let listenerChain {
                sources.stageReferences.append(.init(owner: owner, chain: listenerChain, stage: stage,
                                                     location: reader.location(of: key)))
            }
            overrides[stage] = override
        }
        return overrides
    }

    /// `[{name: x-a, value: "1", append: false}, …]`; `append: true` keeps existing fields.
    mutating func headersToAdd(_ fields: YAMLNodeReader.Fields, _ key: String) -> [HeaderToAdd] {
        reader.list(fields, key).compactMap { item in
            guard let entry = reader.fields(item, context: "'\(key)' entry", allowed: ["name", "value", "append"],
                                            required: ["name", "value"]),
                  let name = reader.string(entry, "name"), let value = reader.string(entry, "value") else { return nil }
            return HeaderToAdd(name: name.lowercased(), value: value, overwrite: !(reader.bool(entry, "append") ?? false))
        }
    }
}
