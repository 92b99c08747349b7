import Foundation

/// Where `luxy test` looks: `*_test.lua` files, in folders (recursively) or named directly.
/// Stateless; called from the command's task.
enum PluginTestDiscovery {
    static let suffix = "_test.lua"

    static func files(under paths: [String]) throws(PluginTestDiscoveryError) -> [String] {
        var found: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw PluginTestDiscoveryError(message: "\(path): no such file or folder")
            }
            guard isDirectory.boolValue else {
                found.append(path)
                continue
            }
            let base = path.hasSuffix("/") ? String(path.dropLast()) : path
            let enumerator = FileManager.default.enumerator(atPath: base)
            while let relative = enumerator?.nextObject() as? String {
                guard relative.hasSuffix(suffix), !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") })
                else { continue }
                found.append(base == "." ? relative : base + "/" + relative)
            }
        }
        var seen = Set<String>()
        return found.sorted().filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.path).inserted }
    }
}

/// A path given to `luxy test` that is not there. A value.
public struct PluginTestDiscoveryError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
