import Yams

/// A YAML node written as one flow-style line (`{audience: api, roles: [a, b]}`), for the
/// `config:` of a printed `per_stage:` snippet.
enum FlowYAML {
    static func render(_ node: Node) -> String {
        switch node {
        case .mapping(let mapping):
            let fields = mapping.map { key, value in "\(scalar(key.string ?? "")): \(render(value))" }
            return "{\(fields.joined(separator: ", "))}"
        case .sequence(let sequence):
            return "[\(sequence.map(render).joined(separator: ", "))]"
        case .scalar(let value):
            // A quoted scalar stays a string; a plain one keeps its type (number, bool).
            return value.style == .plain ? scalar(value.string) : quoted(value.string)
        case .alias:
            return "null"
        }
    }

    /// Plain when YAML reads it back as the same text, else double-quoted.
    private static func scalar(_ text: String) -> String {
        let plain = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(Character(scalar)) || "-_./@+".unicodeScalars.contains(scalar)
        } && !"-.@".contains(text.first!)
        return plain ? text : quoted(text)
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text.unicodeScalars {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(character)
            }
        }
        return out + "\""
    }
}
