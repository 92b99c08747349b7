/// Where in a YAML document something was, as a user would write it to find it again:
/// `spec.configPatches[2].patch.operation`.
public struct YAMLPath: Sendable, Equatable, CustomStringConvertible {
    public enum Component: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public private(set) var components: [Component]

    public static let root = YAMLPath(components: [])

    public func appending(_ key: String) -> YAMLPath {
        YAMLPath(components: components + [.key(key)])
    }

    public func appending(_ index: Int) -> YAMLPath {
        YAMLPath(components: components + [.index(index)])
    }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                // Keys with dots (`source_codes` names such as `hello.lua`) are quoted so the
                // path still reads as one path.
                let shown = key.contains(".") || key.contains(" ") ? "\"\(key)\"" : key
                text += text.isEmpty ? shown : ".\(shown)"
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text.isEmpty ? "(document)" : text
    }
}
