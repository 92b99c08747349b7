import LuxyConfig

/// A deterministic text of a value tree, for hashing what a generation is made of. It walks
/// any value through `Mirror`, so a field added to the configuration or the plan later is
/// covered without a change here.
///
/// What would differ between two replicas that run the same files is left out or made equal:
/// dictionaries and sets are written sorted (Swift seeds their order per process), the keys of
/// a YAML mapping sorted (their order is not content), and absolute paths under the config's
/// folder, `plugins_dir` or `modules_dir` written relative to it, so the same ConfigMap mounted
/// elsewhere, or built-in modules installed under another prefix, hash the same.
///
/// A value type used on one thread at a time.
struct CanonicalContent {
    /// An absolute folder and the name it is written as.
    struct PathRoot {
        var folder: String
        var name: String
    }

    private let roots: [PathRoot]
    private(set) var text = ""

    init(roots: [PathRoot]) {
        // Longest first, so `plugins_dir` inside the config's folder is written as `plugins`.
        self.roots = roots.sorted { $0.folder.count > $1.folder.count }
    }

    mutating func append(_ value: Any) {
        text += Self.render(value, roots: roots)
        text += "\n"
    }

    private static func render(_ value: Any, roots: [PathRoot]) -> String {
        if let string = value as? String { return quoted(relative(string, roots: roots)) }
        if let config = value as? ConfigValue, case .map(let entries) = config {
            let sorted = entries.map { quoted($0.key) + ":" + render($0.value, roots: roots) }.sorted()
            return "map{" + sorted.joined(separator: ",") + "}"
        }
        let mirror = Mirror(reflecting: value)
        let children = mirror.children.map { child in
            (child.label.map { $0 + "=" } ?? "") + render(child.value, roots: roots)
        }
        switch mirror.displayStyle {
        case .optional:
            return children.first ?? "nil"
        case .dictionary, .set:
            return "{" + children.sorted().joined(separator: ",") + "}"
        case .collection:
            return "[" + children.joined(separator: ",") + "]"
        case .enum:
            // A case without a payload has no children; its description is its name.
            return children.isEmpty ? "\(value)" : "(" + children.joined(separator: ",") + ")"
        case .struct, .class, .tuple:
            return "\(mirror.subjectType){" + children.joined(separator: ",") + "}"
        default:
            // Numbers, booleans and other leaves print the same in every process.
            return "\(value)"
        }
    }

    private static func relative(_ string: String, roots: [PathRoot]) -> String {
        for root in roots where string == root.folder || string.hasPrefix(root.folder + "/") {
            return "<" + root.name + ">" + string.dropFirst(root.folder.count)
        }
        return string
    }

    private static func quoted(_ string: String) -> String {
        "\"" + string.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
