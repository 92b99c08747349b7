import Foundation

/// A folder laid out as the kubelet lays out a ConfigMap or Secret volume: each version in a
/// hidden timestamped folder, `..data` a symlink to the current one, and every key a symlink
/// through `..data`. An update writes a new version and renames a fresh symlink over
/// `..data`, so a reader sees the old files or the new ones, never a mix.
/// Used by one test at a time, on the test's own thread.
struct ConfigMapVolume {
    let path: String
    private var version = 0

    /// Creates the folder with its first version.
    init(path: String, files: [String: String]) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try update(files)
        for name in files.keys {
            try FileManager.default.createSymbolicLink(atPath: "\(path)/\(name)", withDestinationPath: "..data/\(name)")
        }
    }

    /// Publishes a new version with the same keys, as the kubelet does: the old version's
    /// folder is removed after the swap.
    mutating func update(_ files: [String: String]) throws {
        version += 1
        let folder = "..2026_12_03_00_00_00.\(version)"
        try FileManager.default.createDirectory(atPath: "\(path)/\(folder)", withIntermediateDirectories: false)
        for (name, content) in files {
            try content.write(toFile: "\(path)/\(folder)/\(name)", atomically: false, encoding: .utf8)
        }
        let old = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(path)/..data")
        try FileManager.default.createSymbolicLink(atPath: "\(path)/..data_tmp", withDestinationPath: folder)
        guard rename("\(path)/..data_tmp", "\(path)/..data") == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        if let old { try FileManager.default.removeItem(atPath: "\(path)/\(old)") }
    }
}
