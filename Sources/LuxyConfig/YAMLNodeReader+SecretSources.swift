import Foundation
import Yams

/// `!env NAME` and `!file path`: a value read from the process environment or from a file (a
/// mounted Kubernetes Secret) when the configuration is loaded, and again on every reload.
/// Both become `.secret`, so they reach plugins as plain strings and are redacted in dumps.
extension YAMLNodeReader {
    static let environmentTag = "!env"
    static let fileTag = "!file"

    /// A secret file is a token or a key, not a data set: a bound keeps a wrong path (a log,
    /// a device) from being read into every dump's memory.
    static let maxSecretFileBytes = 1024 * 1024

    /// The tags whose scalar is a reference to the value rather than the value itself.
    static let referenceTags: Set<String> = [environmentTag, fileTag]

    mutating func environmentValue(_ scalar: Node.Scalar, node: Node) -> ConfigValue {
        let name = scalar.string
        guard !name.isEmpty else {
            report("'!env' needs the name of an environment variable", at: node)
            return .secret("")
        }
        guard let value = ProcessInfo.processInfo.environment[name] else {
            report("environment variable '\(name)' is not set (named by '!env \(name)')", at: node)
            return .secret("")
        }
        return .secret(value)
    }

    /// Relative paths resolve against the config file's folder, as `plugins_dir` does. One
    /// trailing newline is dropped: `echo token > file` and `kubectl create secret
    /// --from-file` of such a file should give the token, not the token and a newline.
    mutating func fileValue(_ scalar: Node.Scalar, node: Node) -> ConfigValue {
        guard !scalar.string.isEmpty else {
            report("'!file' needs a path", at: node)
            return .secret("")
        }
        let path = ConfigurationLoader.resolve(scalar.string, relativeTo: file)
        // Watched even when missing, so that the Secret appearing later triggers a reload.
        if !secretFiles.contains(path) { secretFiles.append(path) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            report("secret file '\(path)' does not exist (named by '!file \(scalar.string)')", at: node)
            return .secret("")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
        guard !isDirectory.boolValue, size <= Self.maxSecretFileBytes,
              let data = FileManager.default.contents(atPath: path) else {
            report("secret file '\(path)' must be a readable file of at most \(Self.maxSecretFileBytes) bytes",
                   at: node)
            return .secret("")
        }
        guard var text = String(data: data, encoding: .utf8) else {
            report("secret file '\(path)' is not valid UTF-8", at: node)
            return .secret("")
        }
        if text.hasSuffix("\r\n") {
            text.removeLast(1)  // "\r\n" is one Character
        } else if text.hasSuffix("\n") {
            text.removeLast()
        }
        return .secret(text)
    }
}
