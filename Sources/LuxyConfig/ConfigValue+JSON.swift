/// Compact JSON for the admin config dump. Written by hand rather than with JSONSerialization so
/// map order survives and secrets can be swapped out on the way.
extension ConfigValue {
    public static let redactedPlaceholder = "[redacted]"

    public func jsonString(redactingSecrets: Bool = true) -> String {
        var output = ""
        write(to: &output, redactingSecrets: redactingSecrets)
        return output
    }

    private func write(to output: inout String, redactingSecrets: Bool) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .int(let value):
            output += String(value)
        case .double(let value):
            // JSON has no NaN or infinity; null is what JavaScript's JSON.stringify writes too.
            output += value.isFinite ? String(value) : "null"
        case .string(let value):
            Self.writeString(value, to: &output)
        case .secret(let value):
            Self.writeString(redactingSecrets ? Self.redactedPlaceholder : value, to: &output)
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                item.write(to: &output, redactingSecrets: redactingSecrets)
            }
            output += "]"
        case .map(let entries):
            output += "{"
            for (index, entry) in entries.enumerated() {
                if index > 0 { output += "," }
                Self.writeString(entry.key, to: &output)
                output += ":"
                entry.value.write(to: &output, redactingSecrets: redactingSecrets)
            }
            output += "}"
        }
    }

    /// Escapes per RFC 8259: quote, backslash and control characters; everything else stays UTF-8.
    static func writeString(_ string: String, to output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{08}": output += "\\b"
            case "\u{0C}": output += "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
