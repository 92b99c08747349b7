/// A script's `schema = { ... }`: a small subset of JSON Schema written as a Lua table, that
/// the stage's YAML `config:` is checked against (and given defaults from) before anything
/// runs. Immutable; Sendable (built once per check, on the control plane).
///
/// Keywords: `type` (string, number, integer, boolean, object — `table` is the same —, array),
/// `properties`, `required`, `additionalProperties` (false unless set: unknown keys are errors,
/// as everywhere in luxy.yaml), `default`, `enum`, `minimum`, `maximum`, `minLength`,
/// `maxLength`, `minItems`, `maxItems`, `items`, `description` (ignored).
public final class ConfigSchema: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case string, number, integer, boolean, object, array
    }

    public let kind: Kind?
    public let properties: [String: ConfigSchema]
    public let required: [String]
    public let additionalProperties: Bool
    public let defaultValue: ConfigValue?
    public let allowed: [ConfigValue]?
    public let minimum: Double?
    public let maximum: Double?
    public let minLength: Int?
    public let maxLength: Int?
    public let minItems: Int?
    public let maxItems: Int?
    public let items: ConfigSchema?

    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "default", "enum", "minimum", "maximum",
        "minLength", "maxLength", "minItems", "maxItems", "items", "description",
    ]

    /// Reads the Lua table (as a ConfigValue); `place` names it in errors (`schema.properties.rate`).
    public init(_ value: ConfigValue, place: String = "schema") throws(ConfigSchemaError) {
        guard case .map(let entries) = value else {
            throw ConfigSchemaError("\(place) must be a table")
        }
        for entry in entries where !Self.keywords.contains(entry.key) {
            throw ConfigSchemaError("\(place): unknown keyword '\(entry.key)'; expected one of "
                + Self.keywords.sorted().joined(separator: ", "))
        }
        switch value["type"] {
        case nil:
            kind = nil
        case .string(let name)?:
            guard let parsed = name == "table" ? .object : Kind(rawValue: name) else {
                throw ConfigSchemaError("\(place).type: unknown type '\(name)'; expected one of "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", ") + ", table")
            }
            kind = parsed
        default:
            throw ConfigSchemaError("\(place).type must be a string")
        }
        var properties: [String: ConfigSchema] = [:]
        switch value["properties"] {
        case nil: break
        case .map(let fields)?:
            for field in fields {
                properties[field.key] = try ConfigSchema(field.value, place: "\(place).properties.\(field.key)")
            }
        default:
            throw ConfigSchemaError("\(place).properties must be a table of schemas by name")
        }
        self.properties = properties
        required = try Self.strings(value["required"], place: "\(place).required")
        for name in required where properties[name] == nil && !properties.isEmpty {
            throw ConfigSchemaError("\(place).required names '\(name)', which is not in properties")
        }
        additionalProperties = try Self.bool(value["additionalProperties"], place: "\(place).additionalProperties")
            ?? properties.isEmpty
        allowed = try Self.list(value["enum"], place: "\(place).enum")
        minimum = try Self.number(value["minimum"], place: "\(place).minimum")
        maximum = try Self.number(value["maximum"], place: "\(place).maximum")
        minLength = try Self.count(value["minLength"], place: "\(place).minLength")
        maxLength = try Self.count(value["maxLength"], place: "\(place).maxLength")
        minItems = try Self.count(value["minItems"], place: "\(place).minItems")
        maxItems = try Self.count(value["maxItems"], place: "\(place).maxItems")
        items = try value["items"].map { (items) throws(ConfigSchemaError) in
            try ConfigSchema(items, place: "\(place).items")
        }
        defaultValue = value["default"]
        // A default that breaks its own schema is the script's bug: say so at load.
        if let defaultValue {
            var problems: [ConfigSchemaProblem] = []
            _ = validate(defaultValue, at: ConfigValuePath(), problems: &problems)
            if let first = problems.first {
                throw ConfigSchemaError("\(place).default does not match its schema: \(first.message)")
            }
        }
    }

    private static func strings(_ value: ConfigValue?, place: String) throws(ConfigSchemaError) -> [String] {
        guard let list = try Self.list(value, place: place) else { return [] }
        var names: [String] = []
        for item in list {
            guard case .string(let name) = item else { throw ConfigSchemaError("\(place) must be a list of strings") }
            names.append(name)
        }
        return names
    }

    /// A Lua sequence; `{}` arrives as an empty map, which is an empty list here.
    private static func list(_ value: ConfigValue?, place: String) throws(ConfigSchemaError) -> [ConfigValue]? {
        switch value {
        case nil: return nil
        case .array(let items)?: return items
        case .map(let entries)? where entries.isEmpty: return []
        default: throw ConfigSchemaError("\(place) must be a list")
        }
    }

    private static func bool(_ value: ConfigValue?, place: String) throws(ConfigSchemaError) -> Bool? {
        switch value {
        case nil: return nil
        case .bool(let flag)?: return flag
        default: throw ConfigSchemaError("\(place) must be a boolean")
        }
    }

    private static func number(_ value: ConfigValue?, place: String) throws(ConfigSchemaError) -> Double? {
        switch value {
        case nil: return nil
        case .int(let number)?: return Double(number)
        case .double(let number)?: return number
        default: throw ConfigSchemaError("\(place) must be a number")
        }
    }

    private static func count(_ value: ConfigValue?, place: String) throws(ConfigSchemaError) -> Int? {
        switch value {
        case nil: return nil
        case .int(let number)? where number >= 0: return number
        default: throw ConfigSchemaError("\(place) must be a non-negative integer")
        }
    }
}

/// A schema that is itself malformed: the script's fault, reported at the script.
public struct ConfigSchemaError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// One way a config value breaks its schema: where (the path, which the stage's
/// `configLocations` turns into file:line:column), what, and the rule.
public struct ConfigSchemaProblem: Sendable, Equatable {
    public var path: ConfigValuePath
    public var message: String
}
