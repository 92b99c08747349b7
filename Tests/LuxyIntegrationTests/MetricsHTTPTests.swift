import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// `modules/metrics-http.lua`: traffic over two workers, `/metrics` scraped from the admin
/// API and read with the Python prometheus_client parser; the values are those the traffic
/// made, failures included.
final class MetricsHTTPTests: IntegrationTestCase {
    private var admin: AdminServer?

    private let failer = """
        function on_request(h)
          if h:headers():get(":path") == "/fail" then error("refused") end
        end
        """

    /// "type name{k=v,...} value" for each sample prometheus_client reads from `/metrics`.
    private func scrapeAndParse(_ proxy: TestProxy) async throws -> Set<String> {
        if admin == nil {
            admin = try await startAdmin(on: proxy)
        }
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin?.localAddress?.port), group: group)
        let response = try await connection.request("GET", "/metrics")
        await connection.close()
        XCTAssertEqual(response.status, 200)
        let python = try ExternalTool.find("python3")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
        try response.body.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try await python.run(["-c", """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    print(f"{family.type} {s.name}{{{labels}}} {s.value:g}")
            """, file.path])
        XCTAssertEqual(output.status, 0, "prometheus_client refused /metrics: \(output.stderr)")
        return Set(output.stdout.split(separator: "\n").map(String.init))
    }

    func testRequestsDurationsAndBytesOnMetrics() async throws {
        let proxy = try await startProxy(standardConfig(inboundStages: """
            - name: metrics-http
              priority: 1000
              config: { duration_buckets: [0.5, 60], size_buckets: [10, 100000] }
            - name: failer
              priority: 10
        """, workers: 2), plugins: ["failer": failer])
        for path in ["/a", "/b", "/status/404", "/fail", "/echo/x"] {
            let client = try await connect(proxy)
            _ = try await client.request("POST", path, body: "hello")
        }
        let samples = try await scrapeAndParse(proxy)
        let backend = "cluster=backend,direction=inbound,route=backend,service=bookstore"
        let echo = "cluster=,direction=inbound,route=echo,service="
        // The parser sorts labels, `le` among them.
        let backendLe = { (le: String) in "cluster=backend,direction=inbound,le=\(le),route=backend,service=bookstore" }
        let echoLe = { (le: String) in "cluster=,direction=inbound,le=\(le),route=echo,service=" }
        for expected in [
            "counter luxy_http_requests_total{\(backend),status_class=2xx} 2",
            "counter luxy_http_requests_total{\(backend),status_class=4xx} 1",
            "counter luxy_http_requests_total{\(backend),status_class=5xx} 1",
            "counter luxy_http_requests_total{\(echo),status_class=2xx} 1",
            "histogram luxy_http_request_duration_seconds_count{\(backend)} 4",
            "histogram luxy_http_request_duration_seconds_bucket{\(backendLe("60"))} 4",
            "histogram luxy_http_request_bytes_bucket{\(backendLe("10"))} 4",
            "histogram luxy_http_request_bytes_sum{\(echo)} 5",
            "histogram luxy_http_response_bytes_count{\(echo)} 1",
            "histogram luxy_http_response_bytes_bucket{\(echoLe("10"))} 0",
            "histogram luxy_http_response_bytes_bucket{\(echoLe("100000"))} 1",
        ] {
            XCTAssertTrue(samples.contains(expected), "missing \(expected) in\n\(samples.sorted().joined(separator: "\n"))")
        }
    }
}
