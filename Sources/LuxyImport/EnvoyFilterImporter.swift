import Foundation
import LuxyConfig
import Yams

/// Reads Istio `EnvoyFilter` resources (or bare Envoy HTTP filter configs) and plans the
/// Luxy plugins and chain entries for their Lua filters. Nothing is written here: see
/// `ImportPlan.write(to:overwrite:)`.
public struct EnvoyFilterImporter {
    /// The input file, absolute: `filename:` sources resolve against its folder.
    let file: String
    var log = FindingLog()
    var names = StageNames()
    var inserts: [LuaFilterInsert] = []
    /// Scripts without chain entries (`source_codes`, per-route code).
    var extraScripts: [ImportPlan.Script] = []
    /// `LuaPerRoute`s read from routes, resolved to stage names in `assemblePlan`.
    var perRouteSettings: [PendingPerRouteSetting] = []
    /// Structural errors that make the input a bad file (exit 2).
    var inputProblems: [ConfigurationError.Problem] = []
    /// Whether any document was one this importer reads; a file without one is a bad input.
    var recognisedDocuments = 0

    /// Reads the file and plans its import; a file that is not YAML, or holds neither an
    /// EnvoyFilter nor an Envoy HTTP filter, throws with `file:line:column`.
    public static func plan(file path: String) throws(ConfigurationError) -> ImportPlan {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ConfigurationError("\(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: absolute),
              let yaml = String(data: data, encoding: .utf8) else {
            throw ConfigurationError("\(path): cannot read it as UTF-8 text")
        }
        return try plan(yaml: yaml, file: absolute)
    }

    /// Plans the import of `yaml`, named `file` in findings and anchoring `filename:` sources.
    public static func plan(yaml: String, file: String) throws(ConfigurationError) -> ImportPlan {
        var importer = EnvoyFilterImporter(file: file)
        var documents: YamlSequence<Node>
        do {
            documents = try Yams.compose_all(yaml: yaml)
        } catch {
            throw ConfigurationError(problems: [ConfigurationLoader.yamlProblem(error, in: yaml, file: file)])
        }
        var index = 0
        while let root = documents.next() {
            index += 1
            importer.document(LocatedNode(node: root, document: index, path: .root, file: file))
        }
        if let error = documents.error {
            throw ConfigurationError(problems: [ConfigurationLoader.yamlProblem(error, in: yaml, file: file)])
        }
        guard importer.inputProblems.isEmpty else { throw ConfigurationError(problems: importer.inputProblems) }
        guard importer.recognisedDocuments > 0 else {
            throw ConfigurationError("neither an Istio EnvoyFilter nor an Envoy HTTP filter config (name: + typed_config:, or http_filters:)",
                                     at: SourceLocation(file: file, line: 1, column: 1))
        }
        return importer.assemblePlan()
    }

    /// One YAML document: an EnvoyFilter, another Kubernetes resource, or bare Envoy config.
    mutating func document(_ root: LocatedNode) {
        if root.isSequence {
            recognisedDocuments += 1
            bareFilterList(root)
            return
        }
        guard root.isMapping else {
            if root.node.null != nil { return }   // an empty document, as `---` twice makes
            badInput(root, "a document must be a mapping (an EnvoyFilter or an Envoy HTTP filter)")
            return
        }
        if let kind = root.child("kind")?.string {
            guard kind == "EnvoyFilter" else {
                log.note(root.place, "kind \(kind) is not an EnvoyFilter; ignored")
                return
            }
            recognisedDocuments += 1
            envoyFilter(root)
        } else if root.child("http_filters") != nil {
            recognisedDocuments += 1
            if let list = root.child("http_filters") { bareFilterList(list) }
        } else if root.child("virtual_hosts") != nil {
            recognisedDocuments += 1
            bareRouteConfiguration(root)
        } else if root.child("name") != nil, root.child("typed_config") != nil || root.child("config") != nil {
            recognisedDocuments += 1
            bareFilters([root])
        } else {
            log.note(root.place, "neither an EnvoyFilter, an Envoy HTTP filter nor a route configuration; ignored")
        }
    }

    mutating func badInput(_ node: LocatedNode, _ message: String) {
        inputProblems.append(.init(location: node.place.location, message: "\(node.place): \(message)"))
    }

    /// The input file's name without folder and extension: the stage name for bare filters.
    var fileStem: String {
        let base = (file as NSString).lastPathComponent
        return (base as NSString).deletingPathExtension
    }
}
