import Foundation

/// Writing a plan into an output folder: `plugins/NAME.lua` and `chains.yaml`.
extension ImportPlan {
    /// What to do about files that are already there.
    public enum ExistingFiles: Sendable {
        /// Refuse, writing nothing: an import must not silently replace someone's plugin.
        case keep
        case overwrite
    }

    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static let chainsFileName = "chains.yaml"

    /// Every path the plan writes, relative to the output folder.
    public var outputFiles: [String] {
        scripts.map { "plugins/\($0.fileName)" } + [Self.chainsFileName]
    }

    /// Writes every file, or none when one exists and `existing` is `.keep`.
    /// Returns the absolute paths written.
    @discardableResult
    public func write(to directory: String, existing: ExistingFiles) throws(WriteError) -> [String] {
        let manager = FileManager.default
        let targets = outputFiles.map { (directory as NSString).appendingPathComponent($0) }
        if existing == .keep {
            let present = targets.filter { manager.fileExists(atPath: $0) }
            guard present.isEmpty else {
                throw WriteError(description: present.map { "\($0): exists; not overwritten (--force replaces it)" }
                    .joined(separator: "\n"))
            }
        }
        let contents = scripts.map(\.source) + [chainsYAML]
        do {
            try manager.createDirectory(atPath: (directory as NSString).appendingPathComponent("plugins"),
                                        withIntermediateDirectories: true)
            for (path, text) in zip(targets, contents) {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            }
        } catch {
            throw WriteError(description: "cannot write to \(directory): \(error.localizedDescription)")
        }
        return targets
    }
}
