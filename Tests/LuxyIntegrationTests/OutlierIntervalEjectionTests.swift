import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// Outlier detection's interval triggers over real sockets: six endpoints, one of them
/// answering 503 to part of its requests (`consecutive_5xx` off, so only the interval trigger
/// can take it out), the others healthy. Per-loop detection, so one loop (`workers: 1`).
final class OutlierIntervalEjectionTests: ResilienceTestCase {
    private var admin: AdminServer?

    override func tearDown() async throws {
        await admin?.close()
        try await super.tearDown()
    }

    private func clusterEndpoints(_ proxy: TestProxy, _ adminClient: TestHTTPConnection) async throws -> [[String: Any]] {
        let json = try await adminClient.request("GET", "/clusters?format=json")
        let object = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any]
        let clusters = try XCTUnwrap(object?["clusters"] as? [[String: Any]])
        let pool = try XCTUnwrap(clusters.first { $0["name"] as? String == "pool" })
        return try XCTUnwrap(pool["endpoints"] as? [[String: Any]])
    }

    func testAnEndpointWithAPoorSuccessRateIsEjectedAndTheOthersAreNot() async throws {
        try await assertThePoorEndpointIsEjected(failingPercent: 40, trigger: "success_rate", logged: "below the threshold",
                                                 settings: "success_rate_request_volume: 10")
    }

    func testAnEndpointOverTheFailurePercentageIsEjectedAndTheOthersAreNot() async throws {
        try await assertThePoorEndpointIsEjected(
            failingPercent: 90, trigger: "failure_percentage", logged: "failures at or above 85%",
            settings: "enforcing_success_rate: 0\nenforcing_failure_percentage: 100\nfailure_percentage_request_volume: 10")
    }

    /// The sixth endpoint answers 503 to `failingPercent` % of its requests; `settings` are
    /// added under `outlier_detection`, whose `trigger` must eject it, and only it.
    private func assertThePoorEndpointIsEjected(failingPercent: Int, trigger: String, logged: String,
                                                settings: String) async throws {
        var healthy = [upstream!]
        for index in 1..<5 { healthy.append(try await startUpstream("healthy-\(index)")) }
        let poor = try await startUpstream("poor")
        poor.setOverride(.statusSometimes(503, percent: failingPercent))
        let addresses = healthy.map(\.address) + [poor.address]
        let extra = settings.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let proxy = try await startProxy(clusterConfig(endpoints: addresses, cluster: """
            outlier_detection:
              consecutive_5xx: 0
              interval: 500ms
              max_ejection_percent: 50
            \(extra)
            """))
        let admin = try await AdminServer.start(host: "127.0.0.1", port: 0, group: group, runtime: proxy.runtime,
                                                logger: proxy.logs.logger)
        self.admin = admin
        let adminClient = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port), group: group)
        let client = try await connect(proxy)

        // Bounded load: requests until the ejection shows, at most 3000 of them or 15 s.
        let started = ContinuousClock.now
        var sent = 0
        var ejected = false
        while !ejected, sent < 3_000, ContinuousClock.now - started < .seconds(15) {
            for _ in 0..<30 {
                _ = try await client.request("GET", "/item/\(sent)")
                sent += 1
            }
            let endpoints = try await clusterEndpoints(proxy, adminClient)
            ejected = endpoints[5]["health_flags"] as? String == "/failed_outlier_check"
        }
        XCTAssertTrue(ejected, "the poor endpoint was not ejected after \(sent) requests")

        let endpoints = try await clusterEndpoints(proxy, adminClient)
        XCTAssertEqual(endpoints[5]["times_ejected"] as? Int, 1)
        XCTAssertNotNil(endpoints[5]["ejected_until"] as? String)
        for index in 0..<5 {
            XCTAssertEqual(endpoints[index]["health_flags"] as? String, "healthy", "endpoint \(index)")
            XCTAssertEqual(endpoints[index]["times_ejected"] as? Int, 0, "endpoint \(index)")
        }
        // Out of rotation: the next requests all succeed and none reaches it.
        let reachedBefore = poor.received.count
        for index in 0..<30 {
            let response = try await client.request("GET", "/after/\(index)")
            XCTAssertEqual(response.status, 200)
        }
        XCTAssertEqual(poor.received.count, reachedBefore)

        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["outlier_detection_ejections"], 1)
        XCTAssertEqual(counters["outlier_detection_ejections_\(trigger)"], 1)
        XCTAssertEqual(proxy.logs.all.filter { $0.message.contains(logged) }.count, 1)
        let text = try await adminClient.request("GET", "/clusters")
        XCTAssertTrue(text.body.contains("pool::\(poor.address)::health_flags::/failed_outlier_check"), text.body)
        XCTAssertTrue(text.body.contains("pool::\(healthy[0].address)::success_rate::100.0"), text.body)
        XCTAssertTrue(text.body.contains("pool::\(poor.address)::success_rate::"), text.body)
        let metrics = try await adminClient.request("GET", "/metrics")
        XCTAssertTrue(metrics.body.contains(
            "luxy_cluster_endpoint_healthy{cluster=\"pool\",endpoint=\"\(poor.address)\"} 0.0"), metrics.body)
        await adminClient.close()
    }
}
