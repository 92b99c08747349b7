import Foundation
import LuxyAdmin
import LuxyCore
import LuxyTestSupport
import XCTest

/// Endpoint health and selection on real sockets, with upstreams that fail in controlled
/// ways: a port nothing listens on (refuses), one that answers 503, one that stops and comes
/// back on its port. Per-loop behaviour is pinned with `workers: 1`.
final class EndpointHealthTests: IntegrationTestCase {
    /// Nothing listens on port 1: connects are refused.
    private let refusing = "127.0.0.1:1"
    private var extraUpstreams: [FakeUpstream] = []
    private var admin: AdminServer?

    override func tearDown() async throws {
        await admin?.close()
        for upstream in extraUpstreams { await upstream.stop() }
        try await super.tearDown()
    }

    private func startUpstream(_ name: String, port: Int = 0) async throws -> FakeUpstream {
        let started = try await FakeUpstream.start(name: name, group: group, port: port)
        extraUpstreams.append(started)
        return started
    }

    /// `/pool/...` goes to the cluster `pool`, given in `cluster`.
    private func config(cluster: String, workers: Int = 1) -> String {
        let routes = """
                  - name: pool
                    match: { prefix: /pool }
                    cluster: pool
        """
        return standardConfig(routes: routes, cluster: cluster, workers: workers)
    }

    private func endpointStatus(_ proxy: TestProxy, _ index: Int) async -> UpstreamClusterStatus.Endpoint? {
        await proxy.server.clusterStatuses().first { $0.name == "pool" }?.endpoints[index]
    }

    func testWithNoSettingsAConnectFailureMovesOnAndTheRefusingEndpointIsEjected() async throws {
        let second = try await startUpstream("second")
        let cluster = """
          - name: pool
            endpoints: ["\(upstream.address)", "\(refusing)", "\(second.address)"]
        """
        let proxy = try await startProxy(config(cluster: cluster))
        let client = try await connect(proxy)
        for index in 0..<30 {
            let response = try await client.request("GET", "/pool/\(index)")
            XCTAssertEqual(response.status, 200, "request \(index): \(response.body)")
        }
        let counters = await proxy.server.counters()
        // Round robin sends every third request to the refusing endpoint, each moved on,
        // until five refusals in a row eject it (the default consecutive_gateway_failure).
        XCTAssertEqual(counters["upstream_connect_failover"], 5)
        XCTAssertEqual(counters["outlier_detection_ejections"], 1)
        XCTAssertEqual(upstream.received.count + second.received.count, 30)
        let dead = await endpointStatus(proxy, 1)
        XCTAssertEqual(dead?.gatewayFailures, 5)
        XCTAssertEqual(dead?.ejectedOnLoops, 1)
        XCTAssertNotNil(dead?.ejectedUntil)
        XCTAssertEqual(proxy.logs.all.filter { $0.message.contains("ejected for 30000 ms") }.count, 1)
    }

    func testConsecutive5xxEjectAndTheEndpointComesBackOnItsOwn() async throws {
        let failing = try await startUpstream("failing")
        failing.answerEverything(with: 503)
        let cluster = """
          - name: pool
            endpoints: ["\(upstream.address)", "\(failing.address)"]
            outlier_detection: { consecutive_5xx: 3, base_ejection_time: 300ms }
        """
        let proxy = try await startProxy(config(cluster: cluster))
        let client = try await connect(proxy)
        var statuses: [Int] = []
        for index in 0..<20 { statuses.append(try await client.request("GET", "/pool/\(index)").status) }
        XCTAssertEqual(statuses.filter { $0 == 503 }.count, 3, "\(statuses)")
        XCTAssertEqual(statuses.suffix(14).filter { $0 != 200 }.count, 0, "\(statuses)")
        XCTAssertEqual(failing.received.count, 3)
        failing.answerEverything(with: nil)
        try await eventually("the ejection to end") { await endpointStatus(proxy, 1)?.ejectedOnLoops == 0 }
        for index in 0..<4 { _ = try await client.request("GET", "/pool/back-\(index)") }
        XCTAssertEqual(failing.received.count, 5, "back in rotation: every other request")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["outlier_detection_ejections"], 1)
        XCTAssertEqual(counters["outlier_detection_returns"], 1)
        XCTAssertEqual(proxy.logs.all.filter { $0.message.contains("ejected for 300 ms") }.count, 1)
        XCTAssertEqual(proxy.logs.all.filter { $0.message.contains("back in rotation after ejection") }.count, 1)
    }

    func testActiveHealthCheckTakesADeadEndpointOutOnEveryLoopAndBringsItBack() async throws {
        let flaky = try await startUpstream("flaky")
        let port = flaky.port
        // Passive detection off: only the active checks may take it out.
        let cluster = """
          - name: pool
            endpoints: ["\(upstream.address)", "\(flaky.address)"]
            outlier_detection: { enabled: false }
            health_checks:
              - http: { path: /healthz }
                interval: 100ms
                timeout: 200ms
                unhealthy_threshold: 2
                healthy_threshold: 1
        """
        let proxy = try await startProxy(config(cluster: cluster, workers: 2))
        try await eventually("a first health check") { flaky.received.contains { $0.head.uri == "/healthz" } }
        await flaky.stop()
        let stopped = ContinuousClock.now
        try await eventually("the dead endpoint out of rotation", timeout: .seconds(3)) {
            await endpointStatus(proxy, 1)?.failsActiveHealthCheck == true
        }
        let outAfter = ContinuousClock.now - stopped
        XCTAssertLessThan(outAfter, .seconds(1), "out after \(outAfter)")
        // Every loop has the verdict: requests on fresh connections (spread over both loops)
        // all go to the live endpoint, though warm connections to the dead one are still open.
        for index in 0..<6 {
            let client = try await connect(proxy)
            let response = try await client.request("GET", "/pool/\(index)")
            XCTAssertEqual(response.header("x-upstream"), "backend", "request \(index)")
        }
        let checksBefore = upstream.received.filter { $0.head.uri == "/healthz" }.count
        XCTAssertGreaterThan(checksBefore, 0)
        _ = try await startUpstream("flaky-back", port: port)
        try await eventually("the endpoint back in rotation", timeout: .seconds(3)) {
            await endpointStatus(proxy, 1)?.failsActiveHealthCheck == false
        }
        var reachedAgain = false
        for index in 0..<6 where !reachedAgain {
            let client = try await connect(proxy)
            let response = try await client.request("GET", "/pool/again-\(index)")
            reachedAgain = response.header("x-upstream")?.hasPrefix("flaky") == true
        }
        XCTAssertTrue(reachedAgain)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["health_check_became_unhealthy"], 1)
        XCTAssertEqual(counters["health_check_became_healthy"], 1)
        // Once per process, not per loop: one transition logged each way.
        XCTAssertEqual(proxy.logs.all.filter { $0.message.contains("out of rotation") }.count, 1)
    }

    func testHealthStateSurvivesAReloadThatKeepsTheEndpoints() async throws {
        let cluster = { (policy: String) in """
          - name: pool
            lb_policy: \(policy)
            endpoints: ["\(self.upstream.address)", "\(self.refusing)"]
            health_checks:
              - tcp: {}
                interval: 10s
                unhealthy_threshold: 1
        """ }
        let proxy = try await startProxy(config(cluster: cluster("round_robin")))
        try await eventually("the refusing endpoint out") { await endpointStatus(proxy, 1)?.failsActiveHealthCheck == true }
        // A new policy makes new per-loop clusters; the checker (10 s interval) won't speak
        // again during this test, so only a carried-over verdict keeps the endpoint out.
        try proxy.writeConfig(config(cluster: cluster("random")))
        try await proxy.runtime.reload()
        let status = await proxy.server.clusterStatuses().first { $0.name == "pool" }
        XCTAssertEqual(status?.policy, "random")
        XCTAssertEqual(status?.endpoints[1].failsActiveHealthCheck, true)
        let client = try await connect(proxy)
        for index in 0..<10 {
            let response = try await client.request("GET", "/pool/\(index)")
            XCTAssertEqual(response.status, 200)
        }
        let counters = await proxy.server.counters()
        XCTAssertNil(counters["upstream_connect_failover"], "the out endpoint was never tried")
    }

    func testRingHashKeepsAKeyOnOneEndpoint() async throws {
        try await assertHeaderKeyKeepsItsEndpoint(cluster: "lb_policy: ring_hash")
    }

    func testMaglevKeepsAKeyOnOneEndpoint() async throws {
        try await assertHeaderKeyKeepsItsEndpoint(cluster: "lb_policy: maglev\n    maglev: { table_size: 251 }")
    }

    /// Requests with the same `x-user` go to one endpoint, from fresh connections landing on
    /// both loops (each loop builds the same ring or table), while different users spread.
    /// The endpoints' ports, and so the ring, change from run to run: with 24 users, all of
    /// them on one endpoint of three is about 3 × (1/3)^24 (with six it was 0.4%, and it
    /// happened).
    private func assertHeaderKeyKeepsItsEndpoint(cluster settings: String) async throws {
        let second = try await startUpstream("second")
        let third = try await startUpstream("third")
        let cluster = """
          - name: pool
            \(settings)
            hash_policy: [{ header: { header_name: x-user } }]
            endpoints: ["\(upstream.address)", "\(second.address)", "\(third.address)"]
        """
        let proxy = try await startProxy(config(cluster: cluster, workers: 2))
        var owners: [String: Set<String>] = [:]
        let users = (1...24).map { "user-\($0)" }
        for user in users {
            for _ in 0..<2 {
                let client = try await connect(proxy)
                for index in 0..<2 {
                    let response = try await client.request("GET", "/pool/\(index)", headers: [("x-user", user)])
                    owners[user, default: []].insert(response.header("x-upstream") ?? "?")
                }
            }
        }
        for (user, endpoints) in owners { XCTAssertEqual(endpoints.count, 1, "\(user) went to \(endpoints)") }
        XCTAssertGreaterThan(Set(owners.values.flatMap { $0 }).count, 1, "keys spread over endpoints")
        let status = await proxy.server.clusterStatuses().first { $0.name == "pool" }
        XCTAssertEqual(status?.endpoints.map(\.successes).reduce(0, +), users.count * 4)
    }

    func testWeightsAndLeastRequest() async throws {
        let second = try await startUpstream("second")
        let cluster = """
          - name: pool
            endpoints: [{ address: "\(upstream.address)", weight: 3 }, "\(second.address)"]
          - name: least
            lb_policy: least_request
            endpoints: ["\(upstream.address)", "\(second.address)"]
        """
        let routes = """
                  - name: least
                    match: { prefix: /least }
                    cluster: least
                  - name: hold
                    match: { path: /hold }
                    cluster: least
                  - name: pool
                    match: { prefix: /pool }
                    cluster: pool
        """
        let proxy = try await startProxy(standardConfig(routes: routes, cluster: cluster, workers: 1))
        let client = try await connect(proxy)
        var heavy = 0
        for index in 0..<20 where try await client.request("GET", "/pool/\(index)").header("x-upstream") == "backend" {
            heavy += 1
        }
        XCTAssertEqual(heavy, 15)
        // A request held on one endpoint: least_request sends every other one to the other.
        let holding = try await connect(proxy)
        try await holding.send("GET /hold HTTP/1.1\r\nhost: x\r\n\r\n")
        try await eventually("the held request upstream") { upstream.heldCount + second.heldCount == 1 }
        let idle = upstream.heldCount == 1 ? "second" : "backend"
        for index in 0..<10 {
            let response = try await client.request("GET", "/least/\(index)")
            XCTAssertEqual(response.header("x-upstream"), idle)
        }
        upstream.releaseHeld()
        second.releaseHeld()
        let held = try await holding.readResponse()
        XCTAssertEqual(held.status, 200)
    }

    func testClustersAdminEndpointAndMetrics() async throws {
        // Smooth weighted round robin sends a third of 15 requests to the refusing endpoint:
        // five refusals, each moved on to the live one, and the fifth ejects it.
        let cluster = """
          - name: pool
            endpoints: [{ address: "\(upstream.address)", weight: 2 }, "\(refusing)"]
        """
        let proxy = try await startProxy(config(cluster: cluster))
        let client = try await connect(proxy)
        for index in 0..<15 {
            let response = try await client.request("GET", "/pool/\(index)")
            XCTAssertEqual(response.status, 200)
        }
        let admin = try await AdminServer.start(host: "127.0.0.1", port: 0, group: group, runtime: proxy.runtime,
                                                logger: proxy.logs.logger)
        self.admin = admin
        let adminClient = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port), group: group)
        let text = try await adminClient.request("GET", "/clusters")
        XCTAssertEqual(text.status, 200)
        let lines = text.body.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.contains("pool::lb_policy::round_robin"), text.body)
        XCTAssertTrue(lines.contains("pool::\(upstream.address)::health_flags::healthy"), text.body)
        XCTAssertTrue(lines.contains("pool::\(upstream.address)::weight::2"), text.body)
        XCTAssertTrue(lines.contains("pool::\(refusing)::health_flags::/failed_outlier_check"), text.body)
        XCTAssertTrue(lines.contains("pool::\(refusing)::rq_gateway_failure::5"), text.body)
        XCTAssertTrue(lines.contains("pool::\(upstream.address)::rq_success::15"), text.body)
        let json = try await adminClient.request("GET", "/clusters?format=json")
        XCTAssertEqual(json.header("content-type"), "application/json")
        let object = try JSONSerialization.jsonObject(with: Data(json.body.utf8)) as? [String: Any]
        let clusters = try XCTUnwrap(object?["clusters"] as? [[String: Any]])
        let pool = try XCTUnwrap(clusters.first { $0["name"] as? String == "pool" })
        let endpoints = try XCTUnwrap(pool["endpoints"] as? [[String: Any]])
        XCTAssertEqual(endpoints[1]["health_flags"] as? String, "/failed_outlier_check")
        XCTAssertNotNil(endpoints[1]["ejected_until"] as? String)
        XCTAssertEqual(endpoints[0]["successes"] as? Int, 15)
        let metrics = try await adminClient.request("GET", "/metrics")
        XCTAssertTrue(metrics.body.contains(
            "luxy_cluster_endpoint_successes{cluster=\"pool\",endpoint=\"\(upstream.address)\"} 15.0"), metrics.body)
        XCTAssertTrue(metrics.body.contains(
            "luxy_cluster_endpoint_healthy{cluster=\"pool\",endpoint=\"\(refusing)\"} 0.0"), metrics.body)
        await adminClient.close()
    }
}
