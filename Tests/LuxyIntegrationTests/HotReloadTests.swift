import Foundation
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// Reloads on a running proxy: all-or-nothing, in-flight requests finish on the generation
/// they started on, nothing changed means nothing built.
final class HotReloadTests: IntegrationTestCase {
    private func versionPlugin(_ version: String) -> String {
        """
        function envoy_on_request(h) h:headers():replace("x-version", "\(version)") end
        function envoy_on_response(h) h:headers():replace("x-version", "\(version)") end
        """
    }

    private var stage: String {
        """
            - name: version
              priority: 10
        """
    }

    func testRequestHeldAcrossReloadFinishesOnItsGeneration() async throws {
        let proxy = try await startProxy(standardConfig(inboundStages: stage), plugins: ["version": versionPlugin("v1")])
        let held = try await connect(proxy)
        try await held.send("GET /hold HTTP/1.1\r\nhost: x\r\n\r\n")
        try await eventually("the request to reach the upstream") { upstream.heldCount == 1 }

        try proxy.writePlugin("version", versionPlugin("v2"))
        let outcome = try await proxy.runtime.reload()
        XCTAssertEqual(outcome, .init(generation: 2, changed: true))
        let retired = await proxy.server.retiredGenerations()
        XCTAssertGreaterThan(retired, 0, "the old generation stays alive for the held request")

        let fresh = try await connect(proxy)
        let second = try await fresh.request("GET", "/after")
        XCTAssertEqual(second.header("x-version"), "v2")
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-version"), "v2")

        upstream.releaseHeld()
        let first = try await held.readResponse()
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.header("x-version"), "v1", "the held request finishes on generation 1")
        try await eventually("the old generation to close") { await proxy.server.retiredGenerations() == 0 }
    }

    func testBrokenScriptsAndConfigsNeverReplaceTheRunningGeneration() async throws {
        let proxy = try await startProxy(standardConfig(inboundStages: stage), plugins: ["version": versionPlugin("v1")])
        let client = try await connect(proxy)
        let cases: [(String, () throws -> Void, String)] = [
            ("syntax error", { try proxy.writePlugin("version", "function envoy_on_request(h)\n  h:headers(\nend") },
             "plugins/version.lua:3:"),
            ("error at load", { try proxy.writePlugin("version", "local x = 1\nerror('boom at load')") },
             "plugins/version.lua:2: boom at load"),
            ("YAML error", { try proxy.writeConfig(self.standardConfig(inboundStages: self.stage) + "\n  bad: [") },
             "luxy.yaml:"),
            ("script over the size limit", {
                try proxy.writeConfig(self.standardConfig(inboundStages: self.stage))
                try proxy.writePlugin("version", self.versionPlugin("v2") + String(repeating: "-- padding\n", count: 100_000))
            }, "over limits.lua_max_script_bytes (1048576)"),
            ("removed file", {
                try proxy.writeConfig(self.standardConfig(inboundStages: self.stage))
                try FileManager.default.removeItem(atPath: proxy.directory + "/plugins/version.lua")
            }, "stage 'version': no version.lua"),
        ]
        for (name, breakIt, expected) in cases {
            try breakIt()
            do {
                _ = try await proxy.runtime.reload()
                XCTFail("\(name): the reload should have been refused")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(name): \(error)")
            }
            let status = await proxy.runtime.status()
            XCTAssertEqual(status.generation, 1, name)
            XCTAssertTrue(status.lastError?.contains(expected) ?? false, "\(name): \(status.lastError ?? "nil")")
            let response = try await client.request("GET", "/still-serving")
            XCTAssertEqual(response.header("x-version"), "v1", name)
            try proxy.writePlugin("version", versionPlugin("v1"))
        }
        try proxy.writePlugin("version", versionPlugin("v3"))
        let outcome = try await proxy.runtime.reload()
        XCTAssertEqual(outcome.generation, 2)
        let status = await proxy.runtime.status()
        XCTAssertNil(status.lastError)
        let fixed = try await client.request("GET", "/fixed")
        XCTAssertEqual(fixed.header("x-version"), "v3")
    }

    func testNothingChangedBuildsNoGeneration() async throws {
        let stages = """
            - name: version
              priority: 10
              config: { a: 1, b: [x, y] }
        """
        let proxy = try await startProxy(standardConfig(inboundStages: stages), plugins: ["version": versionPlugin("v1")])
        let same = try await proxy.runtime.reload()
        XCTAssertEqual(same, .init(generation: 1, changed: false))
        // Comments and key order are not changes.
        let reordered = standardConfig(inboundStages: """
            - priority: 10   # same stage, keys in another order
              config: { b: [x, y], a: 1 }
              name: version
        """)
        try proxy.writeConfig("# a comment\n" + reordered)
        let stillSame = try await proxy.runtime.reload()
        XCTAssertEqual(stillSame, .init(generation: 1, changed: false))
        let status = await proxy.runtime.status()
        XCTAssertEqual(status.counters.unchanged, 2)
    }

    func testListenersAddedAndRemovedOnReload() async throws {
        let proxy = try await startProxy(standardConfig())
        let extra = """
          - name: second
            direction: outbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - name: all
                routes:
                  - match: { prefix: / }
                    direct_response: { status: 200, body: "second" }
        """
        let withSecond = standardConfig().replacingOccurrences(of: "clusters:\n", with: extra + "\nclusters:\n")
        try proxy.writeConfig(withSecond)
        _ = try await proxy.runtime.reload()
        let secondPort = await proxy.port("second")
        XCTAssertNotEqual(secondPort, 0)
        let client = try await TestHTTPConnection.connect(port: secondPort, group: group)
        let response = try await client.request("GET", "/")
        XCTAssertEqual(response.body, "second")
        await client.close()

        try proxy.writeConfig(standardConfig())
        _ = try await proxy.runtime.reload()
        let removed = await proxy.port("second")
        XCTAssertEqual(removed, 0)
        do {
            let refused = try await TestHTTPConnection.connect(port: secondPort, group: group)
            await refused.close()
            XCTFail("the removed listener should no longer accept")
        } catch {}
    }

    func testWatcherReloadsOnceForABurstOfEdits() async throws {
        let proxy = try await startProxy(standardConfig(inboundStages: stage), plugins: ["version": versionPlugin("v1")])
        let watcher = ReloadWatcher(runtime: proxy.runtime, debounce: .milliseconds(200), logger: proxy.logs.logger)
        try await watcher.start()
        defer { Task { await watcher.stop() } }
        for index in 0..<10 {
            try proxy.writePlugin("version", versionPlugin("burst\(index)"))
            try "-- unrelated \(index)".write(toFile: proxy.directory + "/plugins/notes-\(index).lua", atomically: true,
                                               encoding: .utf8)
        }
        try await eventually("a reload") { await proxy.runtime.status().generation == 2 }
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/")
        XCTAssertEqual(response.header("x-version"), "burst9")
        try await Task.sleep(for: .milliseconds(500))
        let status = await proxy.runtime.status()
        XCTAssertEqual(status.counters.attempted, 2, "one reload at start, one for the whole burst")
        XCTAssertEqual(status.generation, 2)
    }

    /// The kubelet's atomic ConfigMap update: files live in a timestamped folder, reached
    /// through the `..data` symlink, which is swapped by renaming a new link over it.
    func testConfigMapSymlinkSwapIsPickedUpOnce() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-cm-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        func writeVersion(_ folder: String, _ version: String) throws {
            try fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
            try standardConfig(inboundStages: stage).replacingOccurrences(of: "{{modules}}", with: TestProxy.repositoryModules)
                .write(toFile: "\(root)/\(folder)/luxy.yaml", atomically: true, encoding: .utf8)
            try versionPlugin(version).write(toFile: "\(root)/\(folder)/version.lua", atomically: true, encoding: .utf8)
        }
        try writeVersion("..2026_12_01_1", "cm1")
        try fm.createSymbolicLink(atPath: "\(root)/..data", withDestinationPath: "..2026_12_01_1")
        try fm.createSymbolicLink(atPath: "\(root)/luxy.yaml", withDestinationPath: "..data/luxy.yaml")
        try fm.createDirectory(atPath: "\(root)/plugins", withIntermediateDirectories: true)
        // plugins_dir defaults to "plugins" next to the config: a folder of links into ..data.
        try fm.createSymbolicLink(atPath: "\(root)/plugins/version.lua", withDestinationPath: "../..data/version.lua")

        let server = try await LuxyCoreTestServer.make(group: group)
        let runtime = LuxyRuntime(configFile: "\(root)/luxy.yaml", server: server.server, logger: server.logs.logger)
        try await runtime.reload()
        let watcher = ReloadWatcher(runtime: runtime, debounce: .milliseconds(200), logger: server.logs.logger)
        try await watcher.start()
        defer { Task { await watcher.stop(); await server.server.shutdown(drainTimeout: .seconds(1)) } }

        let port = await server.server.listenerAddresses()["inbound"]?.port ?? 0
        let client = try await TestHTTPConnection.connect(port: port, group: group)
        defer { Task { await client.close() } }
        let before = try await client.request("GET", "/")
        XCTAssertEqual(before.header("x-version"), "cm1")

        try writeVersion("..2026_12_01_2", "cm2")
        try fm.createSymbolicLink(atPath: "\(root)/..data_tmp", withDestinationPath: "..2026_12_01_2")
        XCTAssertEqual(rename("\(root)/..data_tmp", "\(root)/..data"), 0)
        try fm.removeItem(atPath: "\(root)/..2026_12_01_1")

        try await eventually("the swap to be picked up") { await runtime.status().generation == 2 }
        let after = try await client.request("GET", "/")
        XCTAssertEqual(after.header("x-version"), "cm2")
        try await Task.sleep(for: .milliseconds(500))
        let status = await runtime.status()
        XCTAssertEqual(status.generation, 2, "exactly one new generation for one swap")
    }
}
