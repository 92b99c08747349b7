import Foundation
import LuxyConfig
import LuxyLua

extension ChainPlan {
    /// The most library files one lib folder may hold: reading it is part of every reload.
    static let maxLibraryFiles = 1_000

    /// Every `.lua` file under the lib folder (sub-folders included), read now, as part of the
    /// generation: `lib/a/b.lua` is library `a.b`, and its chunk name is `lib/a/b.lua` whatever
    /// the folder is called (messages add the absolute path). A missing folder has none. A file over
    /// `lua_max_script_bytes` or with a `.` in its name (which `require` could not tell from a
    /// folder) is an error.
    static func readLibraries(_ configuration: LuxyConfiguration) throws(ConfigurationError) -> [LuaLibrary] {
        let root = configuration.libDirectory
        var isDirectory: ObjCBool = false
        guard !root.isEmpty, FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory),
              isDirectory.boolValue else { return [] }
        let relativePaths = libraryFiles(in: root)
        guard relativePaths.count <= maxLibraryFiles else {
            throw ConfigurationError("\(root): \(relativePaths.count) library files, over the limit of \(maxLibraryFiles)")
        }
        var problems: [ConfigurationError.Problem] = []
        var libraries: [LuaLibrary] = []
        let limit = configuration.limits.luaMaxScriptBytes
        for relative in relativePaths {
            let path = (root as NSString).appendingPathComponent(relative)
            let stem = String(relative.dropLast(".lua".count))
            guard !stem.split(separator: "/").contains(where: { $0.contains(".") }) else {
                problems.append(.init(location: nil, message: "\(path): a library's file and folder names must not "
                    + "contain '.' (require(\"a.b\") reads lib/a/b.lua)"))
                continue
            }
            let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if let size = (try? FileManager.default.attributesOfItem(atPath: target))?[.size] as? Int, size > limit {
                problems.append(.init(location: nil,
                                      message: "\(path) is \(size) bytes, over limits.lua_max_script_bytes (\(limit))"))
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append(.init(location: nil, message: "cannot read \(path)"))
                continue
            }
            libraries.append(LuaLibrary(name: stem.replacingOccurrences(of: "/", with: "."),
                                        chunkName: "lib/\(relative)", path: path,
                                        source: String(decoding: data, as: UTF8.self)))
        }
        guard problems.isEmpty else { throw ConfigurationError(problems: problems) }
        return libraries
    }

    /// `.lua` files under `root`, relative to it, sorted; hidden files and folders (editor
    /// swap files, `..data` of a ConfigMap volume) are skipped.
    private static func libraryFiles(in root: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            guard relative.hasSuffix(".lua") else { continue }
            files.append(relative)
            // Stop reading a folder that is far too big; the count check reports it.
            if files.count > maxLibraryFiles { break }
        }
        return files.sorted()
    }

    /// The folders to watch for library changes: the lib folder and every folder under it
    /// (an empty one too, so a library written into it later is seen), hidden ones aside.
    public static func libraryFolders(under root: String) -> [String] {
        guard !root.isEmpty, let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var folders = [root]
        while let relative = enumerator.nextObject() as? String, folders.count <= maxLibraryFiles {
            if (relative as NSString).lastPathComponent.hasPrefix(".") {
                enumerator.skipDescendants()
                continue
            }
            if (enumerator.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory {
                folders.append((root as NSString).appendingPathComponent(relative))
            }
        }
        return folders
    }
}
