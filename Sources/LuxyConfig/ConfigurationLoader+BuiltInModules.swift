import Foundation

/// Where the built-in modules are when `modules_dir` is not set: a `modules/` beside the
/// config file (a checkout, or a config that ships its own), else the folder `scripts/install`
/// puts them in next to the binary, `<prefix>/share/luxy/modules`, found from the running
/// executable's own path so an installed `luxy` works from any folder.
extension ConfigurationLoader {
    /// `<exe>/../share/luxy/modules`, with symlinks to the executable followed first (a
    /// `/usr/local/bin/luxy` that links to `/opt/luxy/bin/luxy` finds `/opt/luxy/share/…`).
    public static let installedModulesDirectory: String? = {
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        let prefix = executable.deletingLastPathComponent().deletingLastPathComponent()
        return standardized(prefix.path + "/share/luxy/modules")
    }()

    static func defaultModulesDirectory(relativeTo file: String) -> String {
        let beside = resolve("modules", relativeTo: file)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: beside, isDirectory: &isDirectory), isDirectory.boolValue {
            return beside
        }
        if let installed = installedModulesDirectory,
           FileManager.default.fileExists(atPath: installed, isDirectory: &isDirectory), isDirectory.boolValue {
            return installed
        }
        // Neither exists: name the conventional place, so a missing module's error points there.
        return beside
    }
}
