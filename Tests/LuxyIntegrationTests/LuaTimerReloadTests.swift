import Foundation
import LuxyLua
import LuxyTestSupport
import XCTest

/// `luxy.timer` on a real proxy: it runs on its loop, stops when a reload replaces its
/// generation while the new one's runs, and exports through `luxy.httpCall` to a real cluster.
final class LuaTimerReloadTests: IntegrationTestCase {
    private func tickPlugin(_ key: String) -> String {
        """
        local t = luxy.shared("ticks")
        luxy.timer.every(0.01, function() t:incr("\(key)", 1, 0) end)
        function on_request(h) end
        """
    }

    private func ticks(_ proxy: TestProxy, _ key: String) -> Int {
        guard case .integer(let n)? = proxy.runtime.platform.sharedDict(named: "ticks").get(key) else { return 0 }
        return n
    }

    func testTheOldGenerationsTimerStopsAndTheNewOnesRuns() async throws {
        let proxy = try await startLuaProxy([LuaPlugin("ticker", tickPlugin("v1"))], workers: 1)
        try await eventually("the timer to run a few times") { ticks(proxy, "v1") >= 3 }

        try proxy.writePlugin("ticker", tickPlugin("v2"))
        try await proxy.runtime.reload()
        try await eventually("the new generation's timer to run") { ticks(proxy, "v2") >= 3 }
        let stopped = ticks(proxy, "v1")
        let v2 = ticks(proxy, "v2")
        try await eventually("the new timer to go on") { ticks(proxy, "v2") >= v2 + 5 }
        XCTAssertEqual(ticks(proxy, "v1"), stopped, "the replaced generation's timer no longer runs")
    }

    func testATimerExportsThroughHTTPCallWithoutARequest() async throws {
        let plugin = LuaPlugin("exporter", """
            local t = luxy.shared("ticks")
            luxy.timer.after(0, function()
              local headers, body = luxy.httpCall("backend",
                {[":method"] = "POST", [":path"] = "/export", [":authority"] = "collector"}, "span-batch", 2000)
              t:set("status", tonumber(headers[":status"]))
            end)
            function on_request(h) end
            """)
        let proxy = try await startLuaProxy([plugin], workers: 1)
        try await eventually("the export to be answered") {
            proxy.runtime.platform.sharedDict(named: "ticks").get("status") == .integer(200)
        }
        let export = try XCTUnwrap(upstream.received.first { $0.head.uri == "/export" })
        XCTAssertEqual(export.head.method, .POST)
        XCTAssertEqual(export.body, "span-batch")
    }
}
