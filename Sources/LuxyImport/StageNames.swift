/// Hands out stage names that are safe as file names (`plugins/NAME.lua`) and as plain YAML
/// scalars, and unique within one import, since every script shares one `plugins/` folder.
struct StageNames: Sendable {
    private var taken: Set<String> = []

    /// `Reviews Lua` → `reviews-lua`; a second `reviews-lua` → `reviews-lua-2`.
    mutating func claim(_ wanted: String) -> String {
        let base = Self.sanitise(wanted)
        var candidate = base
        var counter = 2
        while taken.contains(candidate) {
            candidate = "\(base)-\(counter)"
            counter += 1
        }
        taken.insert(candidate)
        return candidate
    }

    static func sanitise(_ raw: String) -> String {
        var text = raw.lowercased()
        if text.hasSuffix(".lua") { text.removeLast(4) }
        var result = ""
        for character in text {
            let allowed = character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
            let next: Character = allowed ? character : "-"
            if next == "-", result.last == "-" { continue }
            result.append(next)
        }
        while result.hasPrefix("-") || result.hasPrefix("_") { result.removeFirst() }
        while result.hasSuffix("-") || result.hasSuffix("_") { result.removeLast() }
        if result.isEmpty { return "envoy-lua" }
        // A name that starts with a digit would read as a number in YAML.
        if let first = result.first, !first.isLetter { result = "lua-" + result }
        // Nor may it read as a YAML boolean or null.
        if ["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(result) { result += "-lua" }
        return result
    }
}
