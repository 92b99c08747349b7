/// A free-form YAML value, as given in a stage's `config:` or a route's `metadata:`.
/// Map keys keep their YAML order so dumps and Lua iteration are deterministic.
public enum ConfigValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A scalar tagged `!secret` in YAML: a plain string to plugins, redacted in every dump.
    case secret(String)
    case array([ConfigValue])
    case map([(key: String, value: ConfigValue)])

    public static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.secret(a), .secret(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.map(a), .map(b)):
            // A YAML mapping is unordered: the same keys with the same values are the same
            // config, so reordering keys does not make a reload build a new generation.
            guard a.count == b.count else { return false }
            return a.allSatisfy { entry in b.contains { $0.key == entry.key && $0.value == entry.value } }
        default: return false
        }
    }

    public subscript(key: String) -> ConfigValue? {
        guard case .map(let entries) = self else { return nil }
        return entries.first(where: { $0.key == key })?.value
    }
}
