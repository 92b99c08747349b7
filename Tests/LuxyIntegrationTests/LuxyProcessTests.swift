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
    private var child: LuxyChildProcess?

    override func tearDown() async throws {
        child?.remove()
        try await super.tearDown()
    }

    private func plugin(_ version: String) -> String {
        "function envoy_on_response(h) h:headers():replace('x-version', '\(version)') end\n"
    }

    /// A config (a listener, the admin API, one plugin) in a fresh folder and `luxy run` on it;
    /// returns as soon as the process exists.
    private func launch() async throws -> LuxyChildProcess {
        child?.remove()
        let child = try await LuxyChildProcess(
            yaml: standardConfig(inboundStages: "    - { name: version, priority: 1 }"),
            plugins: ["version": plugin("v1")], group: group)
        self.child = child
        return child
    }

    /// Launched, and serving: the process says so in its log.
    private func start() async throws -> LuxyChildProcess {
        let child = try await launch()
        let running = await waitUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
            child.logText.contains("luxy running") || !child.process.isRunning
        }
        XCTAssertTrue(child.process.isRunning, "luxy exited early: \(child.logText)")
        guard running else { throw XCTSkip("luxy did not start in time") }
        return child
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

    /// SIGTERM the moment the listener accepts, before the process even says it runs: the
    /// signal handlers are in place before the first bind, so it drains and exits 0 every
    /// time (a SIGTERM that came before its handler would kill it with the signal).
    func testSIGTERMAsSoonAsThePortAcceptsDrainsAndExits() async throws {
        for attempt in 1...5 {
            let launched = try await launch()
            let process = launched.process
            let accepting = await waitUntil(timeout: .seconds(20), interval: .milliseconds(1)) {
                accepts(port: launched.proxyPort) || !process.isRunning
            }
            XCTAssertTrue(accepting && process.isRunning, "attempt \(attempt): the listener never accepted")
            kill(process.processIdentifier, SIGTERM)
            let exited = await launched.waitForExit(within: .seconds(15))
            XCTAssertTrue(exited, "attempt \(attempt): luxy did not exit")
            guard exited else { return }
            let text = launched.logText
            XCTAssertEqual(process.terminationReason, .exit, "attempt \(attempt): \(text)")
            XCTAssertEqual(process.terminationStatus, 0, "attempt \(attempt): \(text)")
            XCTAssertTrue(text.contains("stopping: draining in-flight requests"), "attempt \(attempt): \(text)")
            XCTAssertTrue(text.contains("stopped"), "attempt \(attempt): \(text)")
        }
    }

    func testSIGHUPReloadsAndSIGTERMDrains() async throws {
        let child = try await start()
        let (proxyPort, adminPort, directory) = (child.proxyPort, child.adminPort, child.directory)
        let client = try await TestHTTPConnection.connect(port: proxyPort, group: group)
        let before = try await client.request("GET", "/a")
        XCTAssertEqual(before.header("x-version"), "v1")

        try plugin("v2").write(toFile: directory + "/plugins/version.lua", atomically: true, encoding: .utf8)
        kill(child.process.processIdentifier, SIGHUP)
        var version: String?
        _ = try await waitUntil(timeout: .seconds(10), interval: .milliseconds(20)) {
            version = try await client.request("GET", "/b").header("x-version")
            return version == "v2"
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

        kill(child.process.processIdentifier, SIGTERM)
        let exited = await child.waitForExit(within: .seconds(15))
        XCTAssertTrue(exited)
        XCTAssertEqual(child.process.terminationStatus, 0)
        let text = child.logText
        XCTAssertTrue(text.contains("SIGHUP: reloading"), text)
        XCTAssertTrue(text.contains("stopped"), text)
    }
}
