import Foundation
import LuxyTestSupport
import NIOCore
import NIOPosix
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `luxy run` as a process: SIGHUP reloads, POST /reload answers with the generation,
/// SIGTERM drains and exits 0.
final class LuxyProcessTests: IntegrationTestCase {
    private var process: Process?
    private var directory: String!

    override func tearDown() async throws {
        if let process, process.isRunning { process.terminate(); process.waitUntilExit() }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        try await super.tearDown()
    }

    /// A port nothing listens on right now (the kernel's pick for port 0, released again).
    private func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }

    private func plugin(_ version: String) -> String {
        "function envoy_on_response(h) h:headers():replace('x-version', '\(version)') end\n"
    }

    private func start() async throws -> (proxy: Int, admin: Int, log: String) {
        let binary = CheckCommandTests.binary
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("\(binary) is not built") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-proc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        try plugin("v1").write(toFile: directory + "/plugins/version.lua", atomically: true, encoding: .utf8)
        let (proxyPort, adminPort) = (try await freePort(), try await freePort())
        let yaml = standardConfig(inboundStages: "    - { name: version, priority: 1 }")
            .replacingOccurrences(of: "{{modules}}", with: TestProxy.repositoryModules)
            .replacingOccurrences(of: "address: 127.0.0.1:0", with: "address: 127.0.0.1:\(proxyPort)")
        try ("admin: { address: 127.0.0.1:\(adminPort) }\n" + yaml)
            .write(toFile: directory + "/luxy.yaml", atomically: true, encoding: .utf8)
        let log = directory + "/luxy.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", directory + "/luxy.yaml", "--no-watch"]
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        // The process says when it serves; wait for that line (bounded).
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("luxy running") {
                return (proxyPort, adminPort, log)
            }
            XCTAssertTrue(process.isRunning, "luxy exited early")
            try await Task.sleep(for: .milliseconds(20))
        }
        throw XCTSkip("luxy did not start in time")
    }

    func testSIGHUPReloadsAndSIGTERMDrains() async throws {
        let (proxyPort, adminPort, log) = try await start()
        let client = try await TestHTTPConnection.connect(port: proxyPort, group: group)
        let before = try await client.request("GET", "/a")
        XCTAssertEqual(before.header("x-version"), "v1")

        try plugin("v2").write(toFile: directory + "/plugins/version.lua", atomically: true, encoding: .utf8)
        kill(process!.processIdentifier, SIGHUP)
        let deadline = ContinuousClock.now + .seconds(10)
        var version: String?
        while ContinuousClock.now < deadline {
            version = try await client.request("GET", "/b").header("x-version")
            if version == "v2" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertEqual(version, "v2", "SIGHUP reloaded the plugin")

        try plugin("v3").write(toFile: directory + "/plugins/version.lua", atomically: true, encoding: .utf8)
        let admin = try await TestHTTPConnection.connect(port: adminPort, group: group)
        let reload = try await admin.request("POST", "/reload")
        XCTAssertEqual(reload.status, 200)
        XCTAssertTrue(reload.body.contains("\"generation\":3"), reload.body)
        XCTAssertTrue(reload.body.contains("\"changed\":true"), reload.body)
        let after = try await client.request("GET", "/c")
        XCTAssertEqual(after.header("x-version"), "v3")

        try "function envoy_on_request(h) oops(".write(toFile: directory + "/plugins/version.lua", atomically: true,
                                                         encoding: .utf8)
        let refused = try await admin.request("POST", "/reload")
        XCTAssertEqual(refused.status, 422)
        XCTAssertTrue(refused.body.contains("version.lua:1:"), refused.body)
        await admin.close()
        await client.close()

        kill(process!.processIdentifier, SIGTERM)
        let exitDeadline = ContinuousClock.now + .seconds(15)
        while process!.isRunning, ContinuousClock.now < exitDeadline { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertFalse(process!.isRunning)
        XCTAssertEqual(process!.terminationStatus, 0)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(text.contains("SIGHUP: reloading"), text)
        XCTAssertTrue(text.contains("stopped"), text)
    }
}
