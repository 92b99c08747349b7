import Yams

/// Typed, located access to a composed YAML tree. Every accessor reports what is wrong with a
/// node instead of throwing, so one pass over the file collects every problem in it.
struct YAMLNodeReader {
    let file: String
    private(set) var problems: [ConfigurationError.Problem] = []
    /// Absolute paths of the files `!file` values named, in file order: watched for reloads.
    var secretFiles: [String] = []

    init(file: String) { self.file = file }

    /// The keys of one YAML mapping, with the phrase that names it in messages ("in listener").
    struct Fields {
        let node: Node
        let context: String
        let location: SourceLocation
        private let entries: [String: (key: Node, value: Node)]

        init(node: Node, context: String, location: SourceLocation, entries: [String: (key: Node, value: Node)]) {
            self.node = node
            self.context = context
            self.location = location
            self.entries = entries
        }

        /// A key whose value is YAML null counts as absent: `chains:` with its children commented
        /// out should mean "no chains", not a type error.
        subscript(key: String) -> Node? {
            guard let value = entries[key]?.value else { return nil }
            return value.isNull ? nil : value
        }

        /// The raw value, null included, for fields where null itself must be reported.
        func rawValue(_ key: String) -> Node? { entries[key]?.value }
        func keyNode(_ key: String) -> Node? { entries[key]?.key }
        func has(_ key: String) -> Bool { entries[key] != nil }
    }

    func location(of node: Node) -> SourceLocation {
        // Nodes Yams composes always carry a mark; (1, 1) only covers hand-built trees.
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func report(_ message: String, at location: SourceLocation?) {
        problems.append(.init(location: location, message: message))
    }

    mutating func report(_ message: String, at node: Node) {
        report(message, at: location(of: node))
    }

    /// Opens `node` as a mapping of known keys. Unknown keys and missing required ones are
    /// reported; the known ones are still returned so the walk can go on inside a flawed mapping.
    mutating func fields(_ node: Node, context: String, allowed: [String], required: [String] = [])
        -> Fields? {
        guard case .mapping(let mapping) = node else {
            report("\(context) must be a mapping", at: node)
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                report("keys \(context.inPhrase) must be strings", at: key)
                continue
            }
            guard allowed.contains(scalar.string) else {
                report("unknown key '\(scalar.string)' \(context.inPhrase)"
                    + NameSuggestion.hint(for: scalar.string, among: allowed), at: key)
                continue
            }
            entries[scalar.string] = (key, value)
        }
        let location = location(of: node)
        for key in required where entries[key] == nil {
            report("missing required key '\(key)' \(context.inPhrase)", at: location)
        }
        return Fields(node: node, context: context, location: location, entries: entries)
    }

    /// The items of a list field; absent or null means an empty list.
    mutating func list(_ fields: Fields, _ key: String) -> [Node] {
        guard let node = fields[key] else { return [] }
        guard case .sequence(let sequence) = node else {
            report("'\(key)' must be a list", at: node)
            return []
        }
        return Array(sequence)
    }
}

extension String {
    /// "listener" → "in listener", so contexts read naturally after a message.
    fileprivate var inPhrase: String { hasPrefix("at ") ? self : "in \(self)" }
}

extension Node {
    var isNull: Bool {
        // Quoted scalars resolve to `str`, so `name: "null"` stays a string.
        guard case .scalar = self else { return false }
        return tagName == .null
    }
}

extension Node {
    /// The tag Yams resolved (`int`, `str`, `!secret`…); `Tag.name` itself is internal to Yams.
    var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
