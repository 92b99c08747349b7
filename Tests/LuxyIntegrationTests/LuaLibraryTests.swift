import Foundation
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// Shared libraries (`lib/NAME.lua`, `require`) on a running proxy: part of the generation, so
/// an edit reloads everything and a broken library keeps the old generation serving.
final class LuaLibraryTests: IntegrationTestCase {
    private let stage = """
            - name: tagger
              priority: 10
        """
    private let plugin = """
        local tags = require("shared.tags")
        local cjson = require("cjson")
        function envoy_on_request(h)
          h:headers():replace("x-tag", tags.tag())
          h:headers():replace("x-json", cjson.encode({tag = tags.tag()}))
        end
        """

    /// The lib folder of the running test (`lib_dir:`), made before the proxy starts.
    private var libDirectory = ""

    private func writeLibrary(_ name: String, _ source: String) throws {
        let path = libDirectory + "/" + name.replacingOccurrences(of: ".", with: "/") + ".lua"
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try source.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func tagLibrary(_ tag: String) -> String {
        "local M = {}\nfunction M.tag() return \"\(tag)\" end\nreturn M\n"
    }

    /// Starts the proxy with `lib/shared/tags.lua` written before the first generation.
    private func startWithLibrary(_ tag: String) async throws -> TestProxy {
        libDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-lib-\(UUID().uuidString)").path
        addTeardownBlock { [libDirectory] in try? FileManager.default.removeItem(atPath: libDirectory) }
        try writeLibrary("shared.tags", tagLibrary(tag))
        let yaml = standardConfig(inboundStages: stage) + "\nlib_dir: \(libDirectory)\n"
        return try await startProxy(yaml, plugins: ["tagger": plugin])
    }

    func testPluginRequiringLibraryServesThroughProxy() async throws {
        let proxy = try await startWithLibrary("v1")
        let client = try await connect(proxy)
        _ = try await client.request("GET", "/")
        let received = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(received.head.headers.first(name: "x-tag"), "v1")
        XCTAssertEqual(received.head.headers.first(name: "x-json"), #"{"tag":"v1"}"#)
    }

    func testEditingLibraryReloadsAndBrokenLibraryKeepsOldGeneration() async throws {
        let proxy = try await startWithLibrary("v1")
        let watcher = ReloadWatcher(runtime: proxy.runtime, debounce: .milliseconds(100), logger: proxy.logs.logger)
        try await watcher.start()
        defer { Task { await watcher.stop() } }
        let client = try await connect(proxy)

        // An edit of the library alone (sub-folder of lib/) is seen by the watcher and reloads.
        try writeLibrary("shared.tags", tagLibrary("v2"))
        try await eventually("a reload for the library edit") { await proxy.runtime.status().generation == 2 }
        _ = try await client.request("GET", "/after-edit")
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-tag"), "v2")

        // A broken library is refused: generation 2 keeps serving, the error names the file:line.
        try writeLibrary("shared.tags", "local M = {}\nfunction M.tag( return 'v3' end\nreturn M\n")
        try await eventually("the broken library to be refused") {
            await proxy.runtime.status().counters.failed >= 1
        }
        let status = await proxy.runtime.status()
        XCTAssertEqual(status.generation, 2)
        XCTAssertTrue(status.lastError?.contains(libDirectory + "/shared/tags.lua:2:") == true, status.lastError ?? "nil")
        _ = try await client.request("GET", "/still-v2")
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-tag"), "v2")
    }
}
