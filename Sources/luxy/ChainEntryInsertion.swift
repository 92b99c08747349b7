/// Adds one stage entry at the end of a chain's list in a luxy.yaml's text, leaving every
/// other line (comments included) as it was. Only block-style YAML it can read line by line
/// is edited; anything else (flow style, tabs, a `chains:` it cannot find its way in) is
/// reported as unsafe, and the caller prints the snippet instead. A value; pure text work.
struct ChainEntryInsertion {
    let chain: String
    /// The entry, unindented: `- name: x`, `  priority: 100`, …
    let entry: [String]

    enum Outcome {
        case edited(String)
        case unsafe(reason: String)
    }

    /// What to paste under `chains:` by hand.
    var snippet: String {
        (["chains:", "  \(chain):"] + entry.map { "    " + $0 }).joined(separator: "\n") + "\n"
    }

    func apply(to text: String) -> Outcome {
        if text.contains("\t") { return .unsafe(reason: "the file has tabs") }
        var lines = text.components(separatedBy: "\n")
        let endsWithNewline = lines.last == ""
        if endsWithNewline { lines.removeLast() }
        func finish(_ lines: [String]) -> Outcome { .edited(lines.joined(separator: "\n") + "\n") }

        guard let chainsIndex = lines.firstIndex(where: { $0.hasPrefix("chains:") }) else {
            return finish(lines + snippet.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init))
        }
        guard Self.isBareKey(lines[chainsIndex], "chains") else {
            return .unsafe(reason: "`chains:` is not a block mapping")
        }
        let chainsEnd = Self.blockEnd(lines, after: chainsIndex, indent: 0)
        let keyIndex = (chainsIndex + 1..<chainsEnd).first { index in
            lines[index].trimmingLeadingSpaces.hasPrefix(chain + ":")
        }
        if let keyIndex {
            guard Self.isBareKey(lines[keyIndex], chain) else {
                return .unsafe(reason: "`\(chain):` is not a block list")
            }
            let keyIndent = Self.indent(lines[keyIndex])
            let end = Self.blockEnd(lines, after: keyIndex, indent: keyIndent)
            let itemIndent = (keyIndex + 1..<end).first { lines[$0].trimmingLeadingSpaces.hasPrefix("- ") }
                .map { Self.indent(lines[$0]) } ?? keyIndent + 2
            let padding = String(repeating: " ", count: itemIndent)
            lines.insert(contentsOf: entry.map { padding + $0 }, at: end)
            return finish(lines)
        }
        let childIndent = (chainsIndex + 1..<chainsEnd).first { !Self.isBlankOrComment(lines[$0]) }
            .map { Self.indent(lines[$0]) } ?? 2
        let padding = String(repeating: " ", count: childIndent)
        lines.insert(contentsOf: [padding + chain + ":"] + entry.map { padding + "  " + $0 }, at: chainsEnd)
        return finish(lines)
    }

    /// The index after the last content line of the block under `lines[start]` (lines indented
    /// deeper than `indent`); comments and blank lines after it stay where they are.
    private static func blockEnd(_ lines: [String], after start: Int, indent: Int) -> Int {
        var end = start + 1
        var index = start + 1
        while index < lines.count {
            let line = lines[index]
            if !isBlankOrComment(line) {
                if Self.indent(line) <= indent { break }
                end = index + 1
            }
            index += 1
        }
        return end
    }

    /// `key:` alone on its line, or followed by a comment.
    private static func isBareKey(_ line: String, _ key: String) -> Bool {
        var rest = line.trimmingLeadingSpaces.dropFirst(key.count + 1)
        while rest.first == " " { rest = rest.dropFirst() }
        return rest.isEmpty || rest.first == "#"
    }

    private static func isBlankOrComment(_ line: String) -> Bool {
        let trimmed = line.trimmingLeadingSpaces
        return trimmed.isEmpty || trimmed.hasPrefix("#")
    }

    private static func indent(_ line: String) -> Int {
        line.prefix { $0 == " " }.count
    }
}

extension String {
    fileprivate var trimmingLeadingSpaces: Substring { drop { $0 == " " } }
}
