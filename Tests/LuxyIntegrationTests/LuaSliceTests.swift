import Foundation
import LuxyTestSupport
import XCTest

/// A plugin that loops for ever on one request does not stop its event loop: the phase gives
/// the loop back after each slice of its instruction budget, and fails when the budget is
/// spent.
final class LuaSliceIntegrationTests: IntegrationTestCase {
    func testOtherRequestsOnTheSameLoopAreServedWhileOnePluginLoopsThenItFailsWithTheBudgetError() async throws {
        let script = """
            function on_request(h)
              if h:headers():get("x-loop") then
                h:logInfo("looping")
                while true do end
              end
              h:headers():add("x-served", "1")
            end
            """
        // A budget that takes seconds to spend: without slices every other request on the
        // loop would wait for all of it.
        let limits = """
        limits:
          lua_instruction_budget: 200000000
        """
        let proxy = try await startLuaProxy([LuaPlugin("spinner", script)], limits: limits, workers: 1)
        let loopingClient = try await connect(proxy)
        let finished = DoneFlag()
        let start = ContinuousClock.now
        let looping = Task {
            try await loopingClient.send("GET /loop HTTP/1.1\r\nhost: localhost\r\nx-loop: 1\r\n\r\n")
            let response = try await loopingClient.readResponse(timeout: .seconds(60))
            finished.set()
            return (response, ContinuousClock.now - start)
        }
        try await eventually("the plugin to start looping") { proxy.logs.contains("looping") }

        // The one loop keeps serving: each request goes through the same Lua stage (and VM)
        // between two slices of the looping one.
        let client = try await connect(proxy)
        var slowest = Duration.zero
        for i in 0..<10 {
            let sent = ContinuousClock.now
            let response = try await client.request("GET", "/ok/\(i)")
            slowest = max(slowest, ContinuousClock.now - sent)
            XCTAssertEqual(response.status, 200, response.body)
        }
        let fresh = try await connect(proxy)
        let other = try await fresh.request("GET", "/fresh")
        XCTAssertEqual(other.status, 200, other.body)
        XCTAssertFalse(finished.isSet, "the looping request is still looping while the others were served")
        XCTAssertEqual(upstream.received.count, 11)
        XCTAssertTrue(upstream.received.allSatisfy { $0.head.headers["x-served"] == ["1"] })

        let (failed, took) = try await looping.value
        XCTAssertEqual(failed.status, 500, failed.description)
        XCTAssertTrue(proxy.logs.contains("plugins/spinner.lua:4: instruction budget exceeded"), "\(proxy.logs.all.map(\.line))")
        XCTAssertEqual(upstream.received.count, 11, "the looping request never reached the upstream")
        print("while a plugin spent a budget of 200,000,000 instructions (\(took)), the slowest of 11 other "
            + "requests on the same loop took \(slowest)")
        XCTAssertLessThan(slowest, .seconds(1))
    }
}

extension LuaSliceIntegrationTests {
    func testAPhaseOverTheDefaultBudgetFailsWithinABoundedTime() async throws {
        let script = """
            function on_request(h)
              while true do end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("spinner", script)], workers: 1)
        let client = try await connect(proxy)
        var slowest = Duration.zero
        for i in 0..<3 {
            let start = ContinuousClock.now
            let response = try await client.request("GET", "/loop/\(i)")
            slowest = max(slowest, ContinuousClock.now - start)
            XCTAssertEqual(response.status, 500, response.description)
        }
        XCTAssertTrue(proxy.logs.contains("plugins/spinner.lua:2: instruction budget exceeded"), "\(proxy.logs.all.map(\.line))")
        print("a phase over the default budget (10,000,000 instructions, slices of 250,000) failed within \(slowest)")
        XCTAssertLessThan(slowest, .seconds(5))
    }
}

/// Set once from the task that finishes, read by the test.
private final class DoneFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
