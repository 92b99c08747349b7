import Yams

extension ConfigurationWalker {
    /// `shared_dicts: {NAME: {max_entries: N, max_bytes: N}}`.
    mutating func sharedDicts(_ node: Node) -> [String: SharedDictConfiguration] {
        guard case .mapping(let mapping) = node else {
            reader.report("shared_dicts must be a mapping of dictionary names", at: node)
            return [:]
        }
        var dicts: [String: SharedDictConfiguration] = [:]
        for (key, value) in mapping {
            guard let name = key.string, !name.isEmpty else {
                reader.report("shared_dicts: names must be non-empty strings", at: key)
                continue
            }
            var dict = SharedDictConfiguration()
            if !value.isNull, let fields = reader.fields(value, context: "shared dictionary '\(name)'",
                                                         allowed: ["max_entries", "max_bytes"]) {
                if let entries = reader.positiveInt(fields, "max_entries") { dict.maxEntries = entries }
                if let bytes = reader.positiveInt(fields, "max_bytes") { dict.maxBytes = bytes }
            }
            dicts[name] = dict
        }
        return dicts
    }
}
