import Yams

/// Yams' errors carry libyaml's wording and a 1-based mark; they become one located problem.
extension ConfigurationLoader {
    public static func yamlProblem(_ error: any Error, in yaml: String, file: String) -> ConfigurationError.Problem {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        func describe(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return "invalid YAML: \(problem)" }
            if context.text.hasPrefix("expected a single document") {
                return "invalid YAML: expected a single document, found another"
            }
            return "invalid YAML: \(problem) (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        }

        guard let error = error as? YamlError else {
            return .init(location: SourceLocation(file: file, line: 1, column: 1), message: "invalid YAML: \(error)")
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            return .init(location: at(mark), message: describe(problem, context))
        case .reader(let problem, let offset, _, _):
            return .init(location: offset.map { location(ofCharacter: $0, in: yaml, file: file) },
                         message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return .init(location: at(context.mark), message: "duplicate key \(keys)")
        default:
            return .init(location: SourceLocation(file: file, line: 1, column: 1), message: "invalid YAML: \(error)")
        }
    }

    /// Where a tab first appears in a line's leading whitespace (tabs inside values are fine).
    static func firstIndentingTab(in yaml: String, file: String) -> SourceLocation? {
        var line = 1
        for text in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            for (offset, character) in text.enumerated() {
                if character == "\t" { return SourceLocation(file: file, line: line, column: offset + 1) }
                if character != " " { break }
            }
            line += 1
        }
        return nil
    }

    /// Reader errors give an offset in characters rather than a mark.
    private static func location(ofCharacter offset: Int, in yaml: String, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        for character in yaml.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
