import Foundation
import LuxyTestSupport
import NIOCore
import NIOPosix
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The `luxy` process under bursts of hundreds of connections whose Lua request phase waits
/// in `httpCall` to an upstream that holds the answer (a coroutine per request held), with
/// a reload in the middle of every burst. After each burst, once its connections closed and
/// the old generation was let go, the process's resident memory is back within 10% of its
/// baseline (taken after warm-up bursts). Bounded to well under two minutes.
final class MemorySoakTests: IntegrationTestCase {
    private var child: LuxyChildProcess?

    private static let burstSize = 300
    private static let warmUpBursts = 2
    private static let measuredBursts = 10
    private static let minimumMeasuredBursts = 3
    /// Past this, no further burst starts (one takes a few seconds), so the test ends well
    /// within two minutes.
    private static let timeBudget = Duration.seconds(80)
    private static let allowedGrowth = 0.10

    override func tearDown() async throws {
        child?.remove()
        try await super.tearDown()
    }

    /// Requests under `/held` wait in a side call to `/hold`; every request churns a little
    /// Lua memory (strings and a table) so the VM's allocator is exercised too.
    private func plugin(_ version: Int) -> String {
        """
        function envoy_on_request(h)
          local path = h:headers():get(":path")
          local scratch = {}
          for i = 1, 64 do scratch[i] = path .. ":" .. i end
          h:headers():add("x-scratch", tostring(#table.concat(scratch, ",")))
          if path:sub(1, 5) == "/held" then
            local headers = h:httpCall("backend",
              {[":method"] = "GET", [":path"] = "/hold", [":authority"] = "backend"}, "", 30000)
            h:headers():add("x-side", headers[":status"])
          end
        end
        function envoy_on_response(h) h:headers():replace("x-version", "v\(version)") end
        """
    }

    /// Resident memory of `pid` in KiB, from `/proc/PID/status`: all of it, and the part that
    /// is anonymous (heap, stacks) rather than file-backed (the binary's code pages).
    private struct Resident {
        var total: Int
        var anonymous: Int

        var description: String { "\(total) (anon \(anonymous))" }
    }

    private func resident(_ pid: Int32) throws -> Resident {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func field(_ name: String) throws -> Int {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
                  let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
            else { throw XCTSkip("no \(name) in /proc/\(pid)/status") }
            return kib
        }
        return Resident(total: try field("VmRSS"), anonymous: try field("RssAnon"))
    }

    private func stats(_ admin: TestHTTPConnection) async throws -> [String: Any] {
        let response = try await admin.request("GET", "/stats")
        return (try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]) ?? [:]
    }

    func testRSSReturnsToBaselineAfterBurstsOfHeldCoroutinesAndReloads() async throws {
        let started = ContinuousClock.now
        let yaml = standardConfig(inboundStages: "    - { name: soak, priority: 1 }")
            .replacingOccurrences(of: "request_timeout: 2s", with: "request_timeout: 30s")
        let child = try await LuxyChildProcess(yaml: yaml, plugins: ["soak": plugin(1)],
                                               arguments: ["--log-level", "warning"], group: group)
        self.child = child
        let (process, directory, proxyPort, adminPort) = (child.process, child.directory, child.proxyPort, child.adminPort)
        let pid = process.processIdentifier

        var admin: TestHTTPConnection?
        try await eventually("the admin API to answer", timeout: .seconds(20)) {
            admin = try? await TestHTTPConnection.connect(port: adminPort, group: group)
            return admin != nil
        }
        let adminConnection = try XCTUnwrap(admin)
        defer { Task { await adminConnection.close() } }

        let idle = try resident(pid)
        var figures: [Resident] = []
        var peaks: [Resident] = []
        var baseline = 0
        for burst in 1...(Self.warmUpBursts + Self.measuredBursts) {
            // A burst: every connection's request waits in its side call, one coroutine each.
            var clients: [TestHTTPConnection] = []
            for index in 0..<Self.burstSize {
                let client = try await TestHTTPConnection.connect(port: proxyPort, group: group)
                clients.append(client)
                try await client.send("GET /held/\(burst)/\(index) HTTP/1.1\r\nhost: soak\r\n\r\n")
            }
            try await eventually("burst \(burst): every request waiting in its side call", timeout: .seconds(30)) {
                upstream.heldCount == Self.burstSize
            }
            peaks.append(try resident(pid))
            // A reload while they wait: their generation retires and closes after them.
            try plugin(burst + 1).write(toFile: directory + "/plugins/soak.lua", atomically: true, encoding: .utf8)
            let reload = try await adminConnection.request("POST", "/reload")
            XCTAssertEqual(reload.status, 200, reload.body)
            upstream.releaseHeld()
            for client in clients {
                let response = try await client.readResponse(timeout: .seconds(30))
                XCTAssertEqual(response.status, 200)
                XCTAssertEqual(response.header("x-version"), "v\(burst)", "the response phase ran on the old VM")
                // And one plain request on the new generation, on the same connection.
                let plain = try await client.request("GET", "/plain/\(burst)")
                XCTAssertEqual(plain.header("x-version"), "v\(burst + 1)")
            }
            for client in clients { await client.close() }
            clients.removeAll()
            try await eventually("burst \(burst): the old generation to go", timeout: .seconds(20)) {
                guard let stats = try? await self.stats(adminConnection) else { return false }
                return stats["retired_generations"] as? Int == 0 && stats["generations_in_memory"] as? Int == 2
                    && stats["open_stage_runtimes"] as? Int == 2
            }
            let now = try resident(pid)
            figures.append(now)
            if burst == Self.warmUpBursts { baseline = now.total }
            if burst > Self.warmUpBursts {
                XCTAssertLessThanOrEqual(Double(now.total), Double(baseline) * (1 + Self.allowedGrowth),
                                         "burst \(burst): RSS \(now.total) KiB against a baseline of \(baseline) KiB")
            }
            // Bounded in time as well as in count: on a slow machine it measures fewer bursts.
            if burst >= Self.warmUpBursts + Self.minimumMeasuredBursts, ContinuousClock.now - started > Self.timeBudget {
                break
            }
        }
        XCTAssertGreaterThanOrEqual(figures.count, Self.warmUpBursts + Self.minimumMeasuredBursts)
        print("soak RSS in KiB, idle before the first burst: \(idle.description); after each burst: "
            + figures.map(\.description).joined(separator: ", ")
            + "; with every request of the burst waiting: " + peaks.map(\.description).joined(separator: ", ")
            + "; "
            + "baseline \(baseline) KiB after \(Self.warmUpBursts) warm-up bursts; "
            + "took \(ContinuousClock.now - started)")
        XCTAssertTrue(process.isRunning, "luxy is still running")
    }
}
