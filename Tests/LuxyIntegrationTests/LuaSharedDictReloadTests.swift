import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// `luxy.shared` on a real proxy: one dictionary for both loops, kept across a reload, its
/// evictions on the admin API.
final class LuaSharedDictReloadTests: IntegrationTestCase {
    private func counterPlugin(_ version: String) -> LuaPlugin {
        LuaPlugin("counter", """
            -- \(version)
            local hits = luxy.shared("hits")
            local tiny = luxy.shared("tiny")
            function on_request(h)
              if h:headers():get(":path") == "/evict" then
                for _, key in ipairs({"a", "b", "c"}) do tiny:set(key, key) end
              end
              local n = hits:incr("n", 1, 0)
              h:respond({[":status"] = "200", ["x-n"] = tostring(n), ["x-version"] = "\(version)"}, "")
            end
            """)
    }

    func testOneDictionaryServesEveryLoopAndSurvivesAReload() async throws {
        let dicts = "shared_dicts:\n  tiny: { max_entries: 2 }"
        let proxy = try await startLuaProxy([counterPlugin("v1")], limits: dicts, workers: 2)
        var seen: [String] = []
        // A fresh connection each time; LuaSharedQueueTests shows one dictionary across both loops.
        for _ in 0..<4 {
            let response = try await connect(proxy).request("GET", "/count")
            seen.append(response.header("x-n") ?? "")
        }
        XCTAssertEqual(seen, ["1", "2", "3", "4"])

        try proxy.writePlugin("counter", counterPlugin("v2").source)
        let outcome = try await proxy.runtime.reload()
        XCTAssertTrue(outcome.changed)
        let after = try await connect(proxy).request("GET", "/evict")
        XCTAssertEqual(after.header("x-version"), "v2")
        XCTAssertEqual(after.header("x-n"), "5", "the count went on across the reload")

        let admin = try await startAdmin(on: proxy)
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port),
                                                              group: group)
        let stats = try await connection.request("GET", "/stats")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(stats.body.utf8)) as? [String: Any])
        XCTAssertEqual(object["shared_dict.tiny.evictions"] as? Int, 1, stats.body)
        XCTAssertEqual(object["shared_dict.tiny.entries"] as? Int, 2, stats.body)
        XCTAssertEqual(object["shared_dict.hits.entries"] as? Int, 1, stats.body)
        let metrics = try await connection.request("GET", "/metrics")
        XCTAssertTrue(metrics.body.contains("luxy_shared_dict_evictions_total{dict=\"tiny\"} 1\n"), metrics.body)
        await connection.close()
    }
}
