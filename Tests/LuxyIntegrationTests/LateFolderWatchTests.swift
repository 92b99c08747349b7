import Foundation
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// A plugins folder that does not exist at start-up is watched once it appears: a script
/// dropped there reloads, and so do later edits, and a folder deleted and made again.
final class LateFolderWatchTests: IntegrationTestCase {
    private func versionPlugin(_ version: String) -> String {
        "function envoy_on_response(h) h:headers():replace('x-version', '\(version)') end\n"
    }

    func testPluginsFolderMadeAfterStartUpIsWatched() async throws {
        // `request-id` resolves to the shipped module until `late/plugins/request-id.lua`
        // exists (a plugin replaces the module of its name); `late/` does not exist yet.
        let yaml = standardConfig(inboundStages: "    - { name: request-id, priority: 10 }")
            .replacingOccurrences(of: "modules_dir:", with: "plugins_dir: late/plugins\nmodules_dir:")
        let proxy = try await startProxy(yaml)
        let folder = proxy.directory + "/late/plugins"
        XCTAssertFalse(FileManager.default.fileExists(atPath: proxy.directory + "/late"))
        let watcher = ReloadWatcher(runtime: proxy.runtime, debounce: .milliseconds(100), logger: proxy.logs.logger)
        try await watcher.start()
        let client = try await connect(proxy)
        func version() async throws -> String? {
            try await client.request("GET", "/").header("x-version")
        }
        let atStart = try await version()
        XCTAssertNil(atStart)

        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try versionPlugin("v1").write(toFile: folder + "/request-id.lua", atomically: true, encoding: .utf8)
        try await eventually("the script dropped into the new folder to load") { (try? await version()) == "v1" }

        // The case that used to be lost: an edit inside the folder that appeared later.
        try versionPlugin("v2").write(toFile: folder + "/request-id.lua", atomically: true, encoding: .utf8)
        try await eventually("the edit to reload") { (try? await version()) == "v2" }

        // Deleted: the module serves again. Made again: watched again.
        try FileManager.default.removeItem(atPath: proxy.directory + "/late")
        try await eventually("the module to serve again") {
            let status = await proxy.runtime.status()
            return status.snapshot?.plan.allStages.first?.stage.origin == .module
        }
        let withModule = try await version()
        XCTAssertNil(withModule)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try versionPlugin("v3").write(toFile: folder + "/request-id.lua", atomically: true, encoding: .utf8)
        try await eventually("the script in the folder made again to load") { (try? await version()) == "v3" }
        try versionPlugin("v4").write(toFile: folder + "/request-id.lua", atomically: true, encoding: .utf8)
        try await eventually("an edit in the folder made again to reload") { (try? await version()) == "v4" }
        await watcher.stop()
    }
}
