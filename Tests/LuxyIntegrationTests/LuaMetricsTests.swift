import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// `luxy.metrics` on a real proxy: the families on `/metrics`, read back by the Python
/// `prometheus_client` text parser; values kept across a reload; the cardinality bound.
final class LuaMetricsTests: IntegrationTestCase {
    private var admin: AdminServer?

    private func metricsPlugin(_ version: String, bucketsOf histogram: String = "{0.1, 1}") -> LuaPlugin {
        LuaPlugin("metered", """
            -- \(version)
            local requests = luxy.metrics.counter("app_requests_total", "Requests seen by the plugin.", {"method", "path"})
            local inflight = luxy.metrics.gauge("app_inflight", "A gauge.", {})
            local sizes = luxy.metrics.histogram("app_size_bytes", "Sizes \\"quoted\\".", {"kind"}, \(histogram))
            function on_request(h)
              local path = h:headers():get(":path")
              requests:inc(1, h:headers():get(":method"), path)
              inflight:inc(1)
              sizes:observe(#path / 10, "path")
              h:respond({[":status"] = "200"}, "")
            end
            """)
    }

    private func scrape(_ proxy: TestProxy) async throws -> String {
        if admin == nil {
            admin = try await startAdmin(on: proxy)
        }
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin?.localAddress?.port),
                                                              group: group)
        defer { Task { await connection.close() } }
        let response = try await connection.request("GET", "/metrics")
        XCTAssertEqual(response.status, 200)
        return response.body
    }

    /// The samples prometheus_client's parser reads from `text`, one "name{k=v,...} value" per line.
    private func parsed(_ text: String) async throws -> [String] {
        let python = try ExternalTool.find("python3")
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    print(f"{family.type} {s.name}{{{labels}}} {s.value:g}")
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await python.run(["-c", "import sys; sys.stdin = open(sys.argv[1]); exec(sys.argv[2])",
                                           file.path, script])
        XCTAssertEqual(output.status, 0, output.stderr)
        return output.stdout.split(separator: "\n").map(String.init)
    }

    func testMetricsAreParsedByPrometheusClientAndKeptAcrossAReload() async throws {
        let proxy = try await startLuaProxy([metricsPlugin("v1")], workers: 2)
        for path in ["/a", "/a", "/bbbbbbbbbbbbbbbbbbbb"] {
            _ = try await connect(proxy).request("GET", path)
        }
        var samples = try await parsed(try await scrape(proxy))
        XCTAssertTrue(samples.contains("counter app_requests_total{method=GET,path=/a} 2"), "\(samples)")
        XCTAssertTrue(samples.contains("counter app_requests_total{method=GET,path=/bbbbbbbbbbbbbbbbbbbb} 1"), "\(samples)")
        XCTAssertTrue(samples.contains("gauge app_inflight{} 3"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram app_size_bytes_bucket{kind=path,le=0.1} 0"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram app_size_bytes_bucket{kind=path,le=1} 2"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram app_size_bytes_bucket{kind=path,le=+Inf} 3"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram app_size_bytes_count{kind=path} 3"), "\(samples)")

        // Same definitions: the values carry on. A changed one (the histogram's buckets) restarts.
        try proxy.writePlugin("metered", metricsPlugin("v2", bucketsOf: "{0.5, 5}").source)
        try await proxy.runtime.reload()
        _ = try await connect(proxy).request("GET", "/a")
        samples = try await parsed(try await scrape(proxy))
        XCTAssertTrue(samples.contains("counter app_requests_total{method=GET,path=/a} 3"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram app_size_bytes_count{kind=path} 1"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram app_size_bytes_bucket{kind=path,le=0.5} 1"), "\(samples)")
    }

    func testSeriesOverTheBoundAreDroppedAndCounted() async throws {
        let plugin = LuaPlugin("wide", """
            local byPath = luxy.metrics.counter("app_paths_total", "", {"path"})
            function on_request(h)
              byPath:inc(1, h:headers():get(":path"))
              h:respond({[":status"] = "200"}, "")
            end
            """)
        let proxy = try await startLuaProxy([plugin], limits: "limits:\n  lua_metric_max_series: 3", workers: 1)
        let client = try await connect(proxy)
        for i in 0..<5 { _ = try await client.request("GET", "/p\(i)") }
        _ = try await client.request("GET", "/p4")
        let samples = try await parsed(try await scrape(proxy))
        XCTAssertEqual(samples.filter { $0.hasPrefix("counter app_paths") }.count, 3, "\(samples)")
        XCTAssertTrue(samples.contains("counter luxy_lua_metric_series_dropped_total{metric=app_paths_total} 3"), "\(samples)")
    }

    func testEachStageShowsItsExecutionsErrorsAndTimePerPhase() async throws {
        let plugin = LuaPlugin("costly", """
            function on_request(h)
              local s = 0
              for i = 1, 2000 do s = s + i end
              if h:headers():get(":path") == "/fail" then error("failing on purpose") end
            end
            function on_response(h) end
            """)
        let proxy = try await startLuaProxy([plugin], workers: 1)
        let client = try await connect(proxy)
        for _ in 0..<3 { _ = try await client.request("GET", "/ok") }
        _ = try await connect(proxy).request("GET", "/fail")

        admin = try await startAdmin(on: proxy)
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin?.localAddress?.port),
                                                              group: group)
        let statsBody = try await connection.request("GET", "/stats").body
        await connection.close()
        let stats = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(statsBody.utf8)) as? [String: Any])
        XCTAssertEqual(stats["costly.lua.request.executions"] as? Int, 4, statsBody)
        XCTAssertEqual(stats["costly.lua.request.errors"] as? Int, 1, statsBody)
        XCTAssertEqual(stats["costly.lua.response.executions"] as? Int, 3, statsBody)
        XCTAssertEqual(stats["costly.lua.response.errors"] as? Int, 0, statsBody)
        XCTAssertGreaterThan(stats["costly.lua.request.time_ns"] as? Int ?? 0, 0, statsBody)
        XCTAssertGreaterThan(stats["lua_stage.costly.request.p50_us"] as? Int ?? 0, 0, statsBody)
        XCTAssertNotNil(stats["lua_stage.costly.request.p99_us"] as? Int, statsBody)

        let samples = try await parsed(try await scrape(proxy))
        XCTAssertTrue(samples.contains("histogram luxy_lua_stage_seconds_count{phase=request,stage=costly} 4"), "\(samples)")
        XCTAssertTrue(samples.contains("histogram luxy_lua_stage_seconds_count{phase=response,stage=costly} 3"), "\(samples)")
        XCTAssertTrue(samples.contains("counter luxy_costly_lua_request_errors_total{} 1"), "\(samples)")
    }
}
