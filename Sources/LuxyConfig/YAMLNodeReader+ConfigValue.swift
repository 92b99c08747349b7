import Yams

/// Free-form values (`config:`, `metadata:`). Types follow the tag Yams resolved, so a quoted
/// "8080" stays a string and plain 8080 becomes an int, exactly as the user wrote it.
extension YAMLNodeReader {
    static let secretTag = "!secret"

    mutating func configValue(_ node: Node) -> ConfigValue {
        let tag = node.tagName
        switch node {
        case .scalar(let scalar):
            return scalarValue(scalar, tag: tag, node: node)
        case .sequence(let sequence):
            reportScalarOnlyTag(tag, at: node)
            return .array(sequence.map { configValue($0) })
        case .mapping(let mapping):
            reportScalarOnlyTag(tag, at: node)
            var entries: [(key: String, value: ConfigValue)] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    report("map keys must be strings", at: key)
                    continue
                }
                entries.append((keyScalar.string, configValue(value)))
            }
            return .map(entries)
        case .alias:
            // compose() resolves aliases to the anchored node; an alias node never reaches here.
            return .null
        }
    }

    private mutating func reportScalarOnlyTag(_ tag: Tag.Name, at node: Node) {
        guard tag.rawValue == Self.secretTag || Self.referenceTags.contains(tag.rawValue) else { return }
        report("'\(tag.rawValue)' applies to scalars only", at: node)
    }

    private mutating func scalarValue(_ scalar: Node.Scalar, tag: Tag.Name, node: Node) -> ConfigValue {
        switch tag {
        case Tag.Name(rawValue: Self.secretTag): return .secret(scalar.string)
        case Tag.Name(rawValue: Self.environmentTag): return environmentValue(scalar, node: node)
        case Tag.Name(rawValue: Self.fileTag): return fileValue(scalar, node: node)
        case .null: return .null
        case .bool: return node.bool.map(ConfigValue.bool) ?? .string(scalar.string)
        case .int:
            // Beyond Int's range YAML still says "int"; a double keeps the magnitude at least.
            if let value = node.int { return .int(value) }
            return node.float.map(ConfigValue.double) ?? .string(scalar.string)
        case .float: return node.float.map(ConfigValue.double) ?? .string(scalar.string)
        case .str, .timestamp, .merge, .value, .nonSpecific: return .string(scalar.string)
        default:
            report("unsupported tag '\(tag.rawValue)'; only !secret, !env and !file are understood", at: node)
            return .string(scalar.string)
        }
    }
}
