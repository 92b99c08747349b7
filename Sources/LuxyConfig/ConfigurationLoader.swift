import Foundation
import Yams

/// Reads `luxy.yaml` into a validated `LuxyConfiguration`, or fails with every problem in the file.
public enum ConfigurationLoader {
    /// Reads and parses the file at `path` (relative paths resolve against the current directory).
    public static func load(file path: String) throws(ConfigurationError) -> LuxyConfiguration {
        let absolute = absolutePath(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory) else {
            throw ConfigurationError("configuration file '\(path)' does not exist")
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationError("configuration file '\(path)' is a directory")
        }
        guard let data = FileManager.default.contents(atPath: absolute) else {
            throw ConfigurationError("cannot read configuration file '\(path)'")
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            throw ConfigurationError("configuration file '\(path)' is not valid UTF-8")
        }
        return try parse(yaml: yaml, file: absolute)
    }

    /// Parses YAML text. `file` names the text in error locations and anchors relative
    /// `plugins_dir`/`modules_dir`; it is made absolute against the current directory.
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> LuxyConfiguration {
        let file = absolutePath(file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            // libyaml's words for a tab ("found character that cannot start any token") do not
            // say what is wrong: name it, at the first tab that indents a line.
            if let tab = firstIndentingTab(in: yaml, file: file) {
                throw ConfigurationError(problems: [.init(location: tab,
                                                          message: "tabs are not allowed for indentation in YAML")])
            }
            throw ConfigurationError(problems: [yamlProblem(error, in: yaml, file: file)])
        }

        var walker = ConfigurationWalker(file: file)
        let configuration = walker.configuration(root)
        let problems = walker.reader.problems + ConfigurationValidator(sources: walker.sources).problems()
        guard problems.isEmpty else {
            throw ConfigurationError(problems: inFileOrder(problems))
        }
        return configuration
    }

    /// Stable, so problems found at the same place keep the order they were found in.
    static func inFileOrder(_ problems: [ConfigurationError.Problem]) -> [ConfigurationError.Problem] {
        problems.enumerated().sorted { lhs, rhs in
            let left = (lhs.element.location?.line ?? 0, lhs.element.location?.column ?? 0, lhs.offset)
            let right = (rhs.element.location?.line ?? 0, rhs.element.location?.column ?? 0, rhs.offset)
            return left < right
        }.map(\.element)
    }
}

// MARK: - Paths

extension ConfigurationLoader {
    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return standardized(path) }
        return standardized(FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// `dir` as written in the file, anchored at the file's folder unless already absolute.
    static func resolve(_ dir: String, relativeTo file: String) -> String {
        if dir.hasPrefix("/") { return standardized(dir) }
        let folder = file.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return standardized(folder + "/" + dir)
    }

    /// Removes `.`, `..` and doubled slashes lexically. Unlike Foundation's `standardizingPath`
    /// this never touches the file system, so the result does not depend on symlinks existing yet.
    static func standardized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
