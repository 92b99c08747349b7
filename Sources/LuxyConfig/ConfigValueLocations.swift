/// Where each value inside a stage's `config:` was written, by its path (`config`,
/// `config.rate`, `config.fields[2]`), so a schema error points at the exact YAML value.
/// Immutable once the walker built it; Sendable.
public struct ConfigValueLocations: Sendable, Equatable {
    public private(set) var byPath: [String: SourceLocation] = [:]

    public init(byPath: [String: SourceLocation] = [:]) {
        self.byPath = byPath
    }

    /// Where values were written is not what the config says: two stages that differ only in
    /// it are equal, as a model built by hand equals the one read from a file.
    public static func == (lhs: ConfigValueLocations, rhs: ConfigValueLocations) -> Bool { true }

    /// The value at `path`, else the nearest enclosing value that was written (a missing key
    /// is reported at the mapping that lacks it).
    public func location(of path: ConfigValuePath) -> SourceLocation? {
        var path = path
        while true {
            if let location = byPath[path.description] { return location }
            guard let parent = path.parent else { return nil }
            path = parent
        }
    }
}

/// A place inside a stage's config: `config`, `config.limits.rate`, `config.fields[1]`
/// (1-based, as Lua indexes the array).
public struct ConfigValuePath: Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public private(set) var steps: [Step] = []

    public init() {}

    public func appending(_ step: Step) -> ConfigValuePath {
        var copy = self
        copy.steps.append(step)
        return copy
    }

    public var parent: ConfigValuePath? {
        guard !steps.isEmpty else { return nil }
        var copy = self
        copy.steps.removeLast()
        return copy
    }

    public var description: String {
        steps.reduce(into: "config") { text, step in
            switch step {
            case .key(let key): text += "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
    }
}
