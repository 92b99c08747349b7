extension ConfigSchema {
    /// Checks `value` (nil: absent) and returns it with defaults filled in; every broken rule
    /// goes to `problems`, so one pass reports them all.
    public func validate(_ value: ConfigValue?, at path: ConfigValuePath,
                         problems: inout [ConfigSchemaProblem]) -> ConfigValue? {
        guard var value = value ?? defaultValue else { return nil }
        if case .null = value {
            guard let defaultValue else { return value }
            value = defaultValue
        }
        guard let value = conforming(value, at: path, problems: &problems) else { return value }
        if let allowed, !allowed.contains(where: { Self.same($0, value) }) {
            let names = allowed.map(Self.describe).joined(separator: ", ")
            problems.append(.init(path: path, message: "\(Self.describe(value)) is not one of \(names) (enum)"))
        }
        switch value {
        case .int, .double:
            checkRange(value, at: path, problems: &problems)
            return value
        case .string(let text), .secret(let text):
            checkLength(text.count, at: path, problems: &problems)
            return value
        case .array(let elements):
            return .array(validateItems(elements, at: path, problems: &problems))
        case .map(let entries):
            return .map(validateFields(entries, at: path, problems: &problems))
        case .null, .bool:
            return value
        }
    }

    /// The value if its type is right; YAML's `{}` or `[]` and Lua's `{}` convert to the
    /// declared container.
    private func conforming(_ value: ConfigValue, at path: ConfigValuePath,
                            problems: inout [ConfigSchemaProblem]) -> ConfigValue? {
        guard let kind else { return value }
        switch (kind, value) {
        case (.string, .string), (.string, .secret), (.number, .int), (.number, .double), (.integer, .int),
             (.boolean, .bool), (.object, .map), (.array, .array):
            return value
        case (.array, .map(let entries)) where entries.isEmpty:
            return .array([])
        case (.object, .array(let elements)) where elements.isEmpty:
            return .map([])
        default:
            problems.append(.init(path: path, message: "\(Self.describe(value)) is not \(Self.article(kind)) (type = \"\(kind.rawValue)\")"))
            return nil
        }
    }

    private func checkRange(_ value: ConfigValue, at path: ConfigValuePath, problems: inout [ConfigSchemaProblem]) {
        let number: Double
        switch value {
        case .int(let int): number = Double(int)
        case .double(let double): number = double
        default: return
        }
        if let minimum, number < minimum {
            problems.append(.init(path: path, message: "\(Self.describe(value)) is below the minimum \(Self.format(minimum)) (minimum)"))
        }
        if let maximum, number > maximum {
            problems.append(.init(path: path, message: "\(Self.describe(value)) is above the maximum \(Self.format(maximum)) (maximum)"))
        }
    }

    private func checkLength(_ length: Int, at path: ConfigValuePath, problems: inout [ConfigSchemaProblem]) {
        if let minLength, length < minLength {
            problems.append(.init(path: path, message: "a string of \(length) characters, shorter than \(minLength) (minLength)"))
        }
        if let maxLength, length > maxLength {
            problems.append(.init(path: path, message: "a string of \(length) characters, longer than \(maxLength) (maxLength)"))
        }
    }

    private func validateItems(_ elements: [ConfigValue], at path: ConfigValuePath,
                               problems: inout [ConfigSchemaProblem]) -> [ConfigValue] {
        if let minItems, elements.count < minItems {
            problems.append(.init(path: path, message: "a list of \(elements.count) items, fewer than \(minItems) (minItems)"))
        }
        if let maxItems, elements.count > maxItems {
            problems.append(.init(path: path, message: "a list of \(elements.count) items, more than \(maxItems) (maxItems)"))
        }
        guard let items else { return elements }
        return elements.enumerated().map { offset, element in
            items.validate(element, at: path.appending(.index(offset + 1)), problems: &problems) ?? element
        }
    }

    private func validateFields(_ entries: [(key: String, value: ConfigValue)], at path: ConfigValuePath,
                                problems: inout [ConfigSchemaProblem]) -> [(key: String, value: ConfigValue)] {
        var filled: [(key: String, value: ConfigValue)] = []
        for entry in entries {
            let fieldPath = path.appending(.key(entry.key))
            guard let field = properties[entry.key] else {
                if !additionalProperties {
                    let known = properties.keys.sorted().joined(separator: ", ")
                    problems.append(.init(path: fieldPath, message: "unknown key '\(entry.key)'; expected one of \(known) (additionalProperties = false)"))
                }
                filled.append(entry)
                continue
            }
            filled.append((entry.key, field.validate(entry.value, at: fieldPath, problems: &problems) ?? entry.value))
        }
        for name in required where !entries.contains(where: { $0.key == name }) {
            problems.append(.init(path: path, message: "'\(name)' is required (required)"))
        }
        // Absent fields with a default, in name order so the filled config is deterministic.
        for (name, field) in properties.sorted(by: { $0.key < $1.key })
        where !entries.contains(where: { $0.key == name }) {
            if let value = field.validate(nil, at: path.appending(.key(name)), problems: &problems) {
                filled.append((name, value))
            }
        }
        return filled
    }

    /// An enum compares numbers by value, so `enum = {1, 2}` accepts a YAML `2.0`.
    private static func same(_ lhs: ConfigValue, _ rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case let (.int(a), .double(b)), let (.double(b), .int(a)): return Double(a) == b
        case let (.string(a), .secret(b)), let (.secret(b), .string(a)): return a == b
        default: return lhs == rhs
        }
    }

    static func describe(_ value: ConfigValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return "\(flag)"
        case .int(let number): return "\(number)"
        case .double(let number): return format(number)
        case .string(let text): return "\"\(text)\""
        case .secret: return "a secret"
        case .array: return "a list"
        case .map: return "a mapping"
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? "\(Int(number))" : "\(number)"
    }

    private static func article(_ kind: Kind) -> String {
        switch kind {
        case .string: return "a string"
        case .number: return "a number"
        case .integer: return "an integer"
        case .boolean: return "a boolean"
        case .object: return "a mapping (object)"
        case .array: return "a list (array)"
        }
    }
}
