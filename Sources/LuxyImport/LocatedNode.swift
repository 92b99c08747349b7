import LuxyConfig
import Yams

/// A YAML node together with where it is, so every finding about it can name its document,
/// path and line without the walking code carrying them around.
struct LocatedNode {
    let node: Node
    let place: InputPlace
    let file: String

    init(node: Node, document: Int, path: YAMLPath, file: String) {
        self.node = node
        self.file = file
        self.place = InputPlace(document: document, path: path,
                                location: node.mark.map { SourceLocation(file: file, line: $0.line, column: $0.column) })
    }

    /// The value under `name`, written in snake_case or camelCase: Istio's CRDs are read by a
    /// protobuf JSON parser that accepts both (`inline_code` and `inlineCode`), and examples use both.
    func child(_ name: String) -> LocatedNode? {
        guard case .mapping(let mapping) = node else { return nil }
        for spelling in Self.spellings(of: name) {
            for (key, value) in mapping where key.string == spelling {
                return LocatedNode(node: value, document: place.document, path: place.path.appending(spelling), file: file)
            }
        }
        return nil
    }

    /// The entries of a mapping, in file order, keyed by their text.
    var entries: [(key: String, value: LocatedNode)] {
        guard case .mapping(let mapping) = node else { return [] }
        return mapping.compactMap { key, value in
            guard let text = key.string else { return nil }
            return (text, LocatedNode(node: value, document: place.document, path: place.path.appending(text), file: file))
        }
    }

    /// The elements of a sequence, in order.
    var elements: [LocatedNode] {
        guard case .sequence(let sequence) = node else { return [] }
        return sequence.enumerated().map { index, element in
            LocatedNode(node: element, document: place.document, path: place.path.appending(index), file: file)
        }
    }

    var isMapping: Bool { if case .mapping = node { true } else { false } }
    var isSequence: Bool { if case .sequence = node { true } else { false } }

    /// Scalar text; nil for mappings and sequences.
    var string: String? {
        guard case .scalar(let scalar) = node else { return nil }
        return scalar.string
    }

    var int: Int? { node.int }
    var bool: Bool? { node.bool }

    /// `inline_code` → [`inline_code`, `inlineCode`]; `inlineCode` → [`inlineCode`, `inline_code`].
    static func spellings(of name: String) -> [String] {
        var camel = ""
        var upperNext = false
        for character in name {
            if character == "_" {
                upperNext = true
            } else {
                camel += upperNext ? character.uppercased() : String(character)
                upperNext = false
            }
        }
        var snake = ""
        for character in name {
            if character.isUppercase {
                snake += "_" + character.lowercased()
            } else {
                snake.append(character)
            }
        }
        var result = [name]
        for spelling in [camel, snake] where !result.contains(spelling) { result.append(spelling) }
        return result
    }
}
