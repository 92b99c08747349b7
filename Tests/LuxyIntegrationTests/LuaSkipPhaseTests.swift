import Foundation
import LuxyTestSupport
import XCTest

/// `handle:skipPhase(name)`: a stage gives up its later phase for one request, and the chain
/// goes on without entering the VM for it. On a real proxy, with a real upstream.
final class LuaSkipPhaseTests: AccessLogTestCase {
    private func lines() -> [String] { log.lines }

    /// `/quiet` requests skip the response and log phases; the others run them. The log lines
    /// come in request order on one connection, so once `/end`'s is there, every earlier one is.
    func testASkippedPhaseDoesNotRunForThatRequestOnly() async throws {
        let stage = LuaPlugin("skipper", """
            function on_request(h)
              if h:headers():get(':path') == '/quiet' then
                h:skipPhase('response')
                h:skipPhase('log')
                h:skipPhase('log')  -- twice is once
              end
            end
            function on_response(h) h:headers():add('x-response-phase', 'ran') end
            function on_log(h) h:accessLog('\(log.path)', h:requestHeaders():get(':path')) end
            """)
        let proxy = try await startLuaProxy([stage], workers: 1)
        let client = try await connect(proxy)
        for path in ["/quiet", "/loud", "/quiet", "/loud", "/end"] {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 200, path)
            XCTAssertEqual(response.header("x-response-phase"), path == "/quiet" ? nil : "ran", path)
        }
        try await eventually("the last request's log line") { lines().last == "/end" }
        XCTAssertEqual(lines(), ["/loud", "/loud", "/end"])
        let counters = await proxy.runtime.server.counters()
        XCTAssertEqual(counters["skipper.lua.request.executions"], 5)
        XCTAssertEqual(counters["skipper.lua.response.executions"], 3, "a skipped phase is not run, so not counted")
        XCTAssertEqual(counters["skipper.lua.log.executions"], 3)
        XCTAssertEqual(counters["skipper.lua.errors"], 0)
    }

    /// Only a later phase can be skipped: the request phase, the phase running now and an
    /// unknown name are the script's error (a 500, with the stage named in the log).
    func testOnlyALaterPhaseCanBeSkipped() async throws {
        let stage = LuaPlugin("skipper", """
            function on_request(h)
              local path = h:headers():get(':path')
              if path == '/request' then h:skipPhase('request') end
              if path == '/unknown' then h:skipPhase('body') end
            end
            function on_response(h)
              if h:headers():get(':status') == '200' and h:requestHeaders():get(':path') == '/itself' then
                h:skipPhase('response')
              end
            end
            """)
        let proxy = try await startLuaProxy([stage], workers: 1)
        let client = try await connect(proxy)
        for path in ["/request", "/unknown", "/itself"] {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 500, path)
        }
        let failures = proxy.logs.all.map(\.line).filter { $0.contains("is not a phase after this one") }
        XCTAssertEqual(failures.count, 3, "\(proxy.logs.all.map(\.line))")
        XCTAssertEqual(failures.filter { $0.contains("skipPhase(): 'body'") && $0.contains("skipper.lua:") }.count, 1,
                       "the script's file:line")
        let response = try await client.request("GET", "/fine")
        XCTAssertEqual(response.status, 200, "the stage goes on serving")
    }

    /// A skip is the stage's own: one stage skipping its log phase leaves the next stage's
    /// log phase running.
    func testASkipBelongsToItsOwnStage() async throws {
        let skipping = LuaPlugin("first", priority: 200, """
            function on_request(h) h:skipPhase('log') end
            function on_log(h) h:accessLog('\(log.path)', 'first') end
            """)
        let logging = LuaPlugin("second", priority: 100, """
            function on_log(h) h:accessLog('\(log.path)', 'second') end
            """)
        let proxy = try await startLuaProxy([skipping, logging], workers: 1)
        let client = try await connect(proxy)
        _ = try await client.request("GET", "/one")
        _ = try await client.request("GET", "/two")
        try await eventually("two log lines") { lines().count == 2 }
        XCTAssertEqual(lines(), ["second", "second"])
    }
}
