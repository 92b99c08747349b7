import Yams

/// Typed scalar fields. Each returns nil after reporting when the value has the wrong type, so
/// callers fall back to a default and keep walking.
extension YAMLNodeReader {
    /// Any non-null scalar reads as a string, so `service: 2024` is fine; lists and maps are not.
    mutating func string(_ fields: Fields, _ key: String) -> String? {
        guard let node = fields.rawValue(key) else { return nil }
        return string(node, named: key)
    }

    mutating func string(_ node: Node, named key: String) -> String? {
        guard case .scalar(let scalar) = node, !node.isNull else {
            report("'\(key)' must be a string", at: node)
            return nil
        }
        if Self.referenceTags.contains(node.tagName.rawValue) {
            // Typed fields show in dumps as they are: secrets belong in a stage's `config:`.
            report("'\(node.tagName.rawValue)' is understood only in config: and metadata: values", at: node)
        }
        return scalar.string
    }

    /// A string that names something other parts of the file refer to; empty would be unreferable.
    mutating func name(_ fields: Fields, _ key: String = "name") -> String? {
        guard let node = fields.rawValue(key), let value = string(node, named: key) else { return nil }
        if value.isEmpty {
            report("'\(key)' must not be empty", at: node)
            return nil
        }
        return value
    }

    mutating func int(_ fields: Fields, _ key: String) -> Int? {
        guard let node = fields.rawValue(key) else { return nil }
        return int(node, named: key)
    }

    /// Only what YAML itself resolves as an integer counts: a quoted "8080" is a string.
    mutating func int(_ node: Node, named key: String) -> Int? {
        guard node.tagName == .int, let value = node.int else {
            report("'\(key)' must be an integer", at: node)
            return nil
        }
        return value
    }

    mutating func positiveInt(_ fields: Fields, _ key: String) -> Int? {
        guard let node = fields.rawValue(key) else { return nil }
        guard node.tagName == .int, let value = node.int, value > 0 else {
            report("'\(key)' must be a positive integer", at: node)
            return nil
        }
        return value
    }

    /// An integer, 0 allowed (counts, sizes and limits where 0 means none).
    mutating func nonNegativeInt(_ fields: Fields, _ key: String) -> Int? {
        guard let node = fields.rawValue(key), let value = int(node, named: key) else { return nil }
        guard value >= 0 else {
            report("'\(key)' must not be negative", at: node)
            return nil
        }
        return value
    }

    mutating func bool(_ fields: Fields, _ key: String) -> Bool? {
        guard let node = fields.rawValue(key) else { return nil }
        guard node.tagName == .bool, let value = node.bool else {
            report("'\(key)' must be true or false", at: node)
            return nil
        }
        return value
    }

    mutating func oneOf<Value: RawRepresentable>(_ fields: Fields, _ key: String, _ choices: [Value]) -> Value?
    where Value.RawValue == String {
        guard let node = fields.rawValue(key) else { return nil }
        guard case .scalar(let scalar) = node, let value = choices.first(where: { $0.rawValue == scalar.string })
        else {
            report("'\(key)' must be one of \(choices.map(\.rawValue).joined(separator: ", "))", at: node)
            return nil
        }
        return value
    }

    mutating func stringList(_ fields: Fields, _ key: String) -> [String]? {
        guard let node = fields[key] else { return nil }
        guard case .sequence(let sequence) = node else {
            report("'\(key)' must be a list of strings", at: node)
            return nil
        }
        var result: [String] = []
        for item in sequence {
            guard case .scalar(let scalar) = item, !item.isNull else {
                report("'\(key)' must be a list of strings", at: item)
                continue
            }
            result.append(scalar.string)
        }
        return result
    }

    /// Milliseconds from `250ms`, `2s`, `1m`, `1h`, or a bare integer meaning milliseconds.
    mutating func duration(_ fields: Fields, _ key: String) -> Int? {
        guard let node = fields.rawValue(key) else { return nil }
        if node.tagName == .int, let value = node.int, value >= 0 { return value }
        if case .scalar(let scalar) = node, let value = Self.milliseconds(scalar.string) { return value }
        report("'\(key)' must be a duration such as 250ms, 2s or 1m", at: node)
        return nil
    }

    /// A duration above zero: for timeouts where zero means nothing sensible.
    mutating func positiveDuration(_ fields: Fields, _ key: String) -> Int? {
        guard let node = fields.rawValue(key) else { return nil }
        if node.tagName == .int, let value = node.int, value > 0 { return value }
        if case .scalar(let scalar) = node, let value = Self.milliseconds(scalar.string), value > 0 { return value }
        report("'\(key)' must be a duration above zero such as 250ms, 2s or 1m", at: node)
        return nil
    }

    static func milliseconds(_ text: String) -> Int? {
        let units: [(suffix: String, factor: Int)] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let amount = Int(digits) else { return nil }
            let (product, overflow) = amount.multipliedReportingOverflow(by: unit.factor)
            return overflow ? nil : product
        }
        return nil
    }

    /// `host:port`, with IPv6 hosts in brackets (`[::1]:8080`); the brackets are not kept.
    /// `minimumPort` is 1 for upstream endpoints, where port 0 ("pick one") makes no sense.
    mutating func address(_ node: Node, named key: String, minimumPort: Int = 0) -> (host: String, port: Int)? {
        guard let text = string(node, named: key) else { return nil }
        guard let (host, portText) = Self.splitHostPort(text), let port = Int(portText),
              portText.allSatisfy(\.isASCII) else {
            report("'\(key)' must be host:port, got '\(text)'", at: node)
            return nil
        }
        guard (minimumPort...65_535).contains(port) else {
            report("'\(key)' port must be between \(minimumPort) and 65535, got \(port)", at: node)
            return nil
        }
        return (host, port)
    }

    static func splitHostPort(_ text: String) -> (host: String, port: Substring)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty, rest.hasPrefix(":") else { return nil }
            return (host, rest.dropFirst())
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = String(text[..<colon])
        // An unbracketed IPv6 address would be ambiguous about where the port starts.
        guard !host.isEmpty, !host.contains(":") else { return nil }
        return (host, text[text.index(after: colon)...])
    }
}
