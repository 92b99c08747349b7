import LuxyConfig

/// A place in the input file: which YAML document (1-based, as `---` separates them), the
/// path inside it, and the line and column when Yams knows them.
public struct InputPlace: Sendable, Equatable, CustomStringConvertible {
    public var document: Int
    public var path: YAMLPath
    public var location: SourceLocation?

    public init(document: Int, path: YAMLPath, location: SourceLocation?) {
        self.document = document
        self.path = path
        self.location = location
    }

    /// `doc 1: spec.configPatches[2]`
    public var description: String { "doc \(document): \(path)" }
}
