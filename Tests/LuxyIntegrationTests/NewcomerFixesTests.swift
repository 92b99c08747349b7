import Foundation
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// Small things a newcomer trips on: `--version`, the start-up error when a port is taken,
/// which files a reload names and which it ignores.
final class NewcomerFixesTests: IntegrationTestCase {
    func testVersionFlag() throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        let result = try LuxyCommandRunner(workingDirectory: NSTemporaryDirectory()).run(["--version"])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertNotNil(result.stdout.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression), result.all)
    }

    func testPortTakenAtStartUpDoesNotClaimAGenerationServes() throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        let folder = NSTemporaryDirectory() + "luxy-port-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The fake upstream holds the port.
        try """
        listeners:
          - name: web
            direction: inbound
            protocol: http
            address: \(upstream.address)
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - match: { prefix: / }
                    echo: true
        """.write(toFile: folder + "/luxy.yaml", atomically: true, encoding: .utf8)
        let result = try LuxyCommandRunner(workingDirectory: folder).run(["run", "--config", "luxy.yaml", "--no-watch"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("configuration rejected; nothing is running"), result.all)
        XCTAssertFalse(result.stderr.contains("keeps serving"), result.all)
    }

    func testReloadNamesTheChangedFilesAndIgnoresLogsAndSwapFiles() async throws {
        let stage = "    - name: version\n      priority: 10"
        let proxy = try await startProxy(standardConfig(inboundStages: stage),
                                         plugins: ["version": "function on_request(h) end"])
        let watcher = ReloadWatcher(runtime: proxy.runtime, debounce: .milliseconds(150), logger: proxy.logs.logger)
        try await watcher.start()
        defer { Task { await watcher.stop() } }
        // The ignored files first: had they counted, they would be named with the plugin.
        try "started\n".write(toFile: proxy.directory + "/proxy.log", atomically: false, encoding: .utf8)
        try "swap".write(toFile: proxy.directory + "/plugins/.version.lua.swp", atomically: false, encoding: .utf8)
        try proxy.writePlugin("version", "function on_request(h) h:headers():add('x-v', '2') end")
        try await eventually("the reload") { await proxy.runtime.status().generation == 2 }
        let reloads = proxy.logs.all.filter { $0.message == "files changed: reloading" }
        XCTAssertEqual(reloads.count, 1)
        let files = reloads.first?.metadata["files"] ?? ""
        XCTAssertTrue(files.contains(proxy.directory + "/plugins/version.lua"), files)
        XCTAssertFalse(files.contains("proxy.log") || files.contains(".swp"), files)
    }

    func testIgnoredNames() {
        for name in ["proxy.log", "proxy.log.1", ".luxy.yaml.swp", "luxy.yaml~", "#luxy.yaml#", "4913", "x.lua.bak"] {
            XCTAssertTrue(FileChangeWatcher.isIgnored(name), name)
        }
        for name in ["luxy.yaml", "x.lua", "..data", "..data_tmp", "cert.pem", "plugins"] {
            XCTAssertFalse(FileChangeWatcher.isIgnored(name), name)
        }
    }

    /// `scripts/test` ends with one line counting both frameworks, and keeps the status.
    func testTestSummaryCountsBothFrameworks() throws {
        var repository = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { repository.deleteLastPathComponent() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-o", "pipefail", "-c", """
            printf '%s\\n' "Test Case 'A.a' passed (0.1 seconds)" "Test Case 'A.b' failed (0.1 seconds)" \
              '✔ Test example() passed after 0.001 seconds.' \
              '✔ Test run with 1 test in 0 suites passed after 0.001 seconds.' \
              | scripts/test-summary; (exit 3) | scripts/test-summary
            """]
        process.currentDirectoryURL = repository
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 3, "the status of what was summarized")
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.suffix(2), ["2 passed, 1 failed", "0 passed, 0 failed"], text)
        XCTAssertEqual(lines.count, 6, "every input line passes through: \(text)")
    }
}
