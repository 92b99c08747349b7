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

    private struct Launched {
        var proxyPort: Int
        var adminPort: Int
        var log: String
    }

    /// Writes a config (a listener, the admin API, one plugin) to a fresh folder and starts
    /// `luxy run` on it; returns as soon as the process exists.
    private func launch() async throws -> Launched {
        let binary = BuiltLuxyBinary.path
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw XCTSkip("\(binary) is not built") }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
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
        return Launched(proxyPort: proxyPort, adminPort: adminPort, log: log)
    }

    private func start() async throws -> (proxy: Int, admin: Int, log: String) {
        let launched = try await launch()
        let process = try XCTUnwrap(self.process)
        // The process says when it serves; wait for that line (bounded).
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: launched.log, encoding: .utf8), text.contains("luxy running") {
                return (launched.proxyPort, launched.adminPort, launched.log)
            }
            XCTAssertTrue(process.isRunning, "luxy exited early")
            try await Task.sleep(for: .milliseconds(20))
        }
        throw XCTSkip("luxy did not start in time")
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port` right now.
    private func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    /// Waits (bounded) for the process to exit; false if it is still running.
    private func waitForExit(_ process: Process, within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return !process.isRunning
    }

    /// SIGTERM the moment the listener accepts, before the process even says it runs: the
    /// signal handlers are in place before the first bind, so it drains and exits 0 every
    /// time (a SIGTERM that came before its handler would kill it with the signal).
    func testSIGTERMAsSoonAsThePortAcceptsDrainsAndExits() async throws {
        for attempt in 1...5 {
            let launched = try await launch()
            let process = try XCTUnwrap(self.process)
            let deadline = ContinuousClock.now + .seconds(20)
            var accepting = false
            while process.isRunning, ContinuousClock.now < deadline {
                if accepts(port: launched.proxyPort) {
                    accepting = true
                    break
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            XCTAssertTrue(accepting, "attempt \(attempt): the listener never accepted")
            kill(process.processIdentifier, SIGTERM)
            let exited = try await waitForExit(process, within: .seconds(15))
            XCTAssertTrue(exited, "attempt \(attempt): luxy did not exit")
            guard exited else { return }
            let text = (try? String(contentsOfFile: launched.log, encoding: .utf8)) ?? ""
            XCTAssertEqual(process.terminationReason, .exit, "attempt \(attempt): \(text)")
            XCTAssertEqual(process.terminationStatus, 0, "attempt \(attempt): \(text)")
            XCTAssertTrue(text.contains("stopping: draining in-flight requests"), "attempt \(attempt): \(text)")
            XCTAssertTrue(text.contains("stopped"), "attempt \(attempt): \(text)")
        }
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
