import LuxyTestSupport
import XCTest

/// A route's `retry_policy` over real sockets: what is retried, where to, how often, and what
/// is not retried (non-idempotent methods, bodies over the retry buffer, the retry budget).
final class RetryTests: ResilienceTestCase {
    /// A response stage counting its runs in the loop's one VM (`workers: 1`) and saying what
    /// `streamInfo():attemptCount()` was when it ran.
    private let countingPlugin = """
        local responses = 0
        function envoy_on_response(handle)
          responses = responses + 1
          handle:headers():add("x-responses-so-far", tostring(responses))
          handle:headers():add("x-attempts", tostring(handle:streamInfo():attemptCount()))
        end
        """

    func testAn503IsRetriedOnTheOtherEndpointAndTheResponseStagesRunOnceOnTheFinalAnswer() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let healthy = try await startUpstream("healthy")
        let proxy = try await startProxy(
            clusterConfig(endpoints: [failing.address, healthy.address],
                          route: "retry_policy: { retry_on: 5xx, num_retries: 1 }",
                          chain: "- name: counting\n  priority: 100"),
            plugins: ["counting": countingPlugin])
        let client = try await connect(proxy)
        for number in 1...4 {
            let response = try await client.request("GET", "/item")
            XCTAssertEqual(response.status, 200, "\(response)")
            XCTAssertEqual(response.header("x-upstream"), "healthy")
            XCTAssertEqual(response.header("x-responses-so-far"), String(number), "one response phase per request")
        }
        // Every request met the healthy endpoint once; those that met the failing one first
        // were retried there, as their second attempt.
        XCTAssertEqual(healthy.received.count, 4)
        XCTAssertGreaterThan(failing.received.count, 0)
        XCTAssertEqual(Set(failing.received.map { $0.head.headers.first(name: "x-luxy-attempt-count") }), ["1"])
        XCTAssertEqual(healthy.received.filter { $0.head.headers.first(name: "x-luxy-attempt-count") == "2" }.count,
                       failing.received.count)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_retry"], failing.received.count)
    }

    /// Every attempt carries the client in `x-forwarded-for` once: the request is prepared for
    /// its upstream where the exchange holds it, and an attempt after the first must neither
    /// append the client again nor forget that it was.
    func testEveryAttemptForwardsTheClientOnce() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let proxy = try await startProxy(
            clusterConfig(endpoints: [failing.address],
                          route: "retry_policy: { retry_on: 5xx, num_retries: 3, retry_back_off: { base_interval: 1ms } }"))
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/item", headers: [("x-forwarded-for", "203.0.113.9")])
        XCTAssertEqual(response.status, 503, "\(response)")
        XCTAssertEqual(failing.received.count, 4, "the first attempt and three retries")
        for attempt in failing.received {
            XCTAssertEqual(attempt.head.headers["x-forwarded-for"], ["203.0.113.9, 127.0.0.1"],
                           "attempt \(attempt.head.headers.first(name: "x-luxy-attempt-count") ?? "?")")
        }
    }

    func testAttemptCountReachesLua() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let healthy = try await startUpstream("healthy")
        let proxy = try await startProxy(
            clusterConfig(endpoints: [failing.address, healthy.address],
                          route: "retry_policy: { retry_on: gateway-error }",
                          chain: "- name: counting\n  priority: 100"),
            plugins: ["counting": countingPlugin])
        let client = try await connect(proxy)
        let attempts = [try await client.request("GET", "/a"), try await client.request("GET", "/b")]
            .compactMap { $0.header("x-attempts") }
        XCTAssertEqual(Set(attempts), ["1", "2"], "one request went straight through, one was retried")
    }

    func testAConnectFailureMovesOnToALiveEndpoint() async throws {
        let healthy = try await startUpstream("healthy")
        let proxy = try await startProxy(clusterConfig(
            endpoints: [try await deadAddress(), healthy.address],
            route: "retry_policy: { retry_on: connect-failure }"))
        let client = try await connect(proxy)
        for _ in 1...4 {
            let response = try await client.request("GET", "/")
            XCTAssertEqual(response.status, 200, "\(response)")
        }
        // The connect failure is taken by the default failover (nothing was sent), before the
        // retry policy would count a retry.
        let counters = await proxy.server.counters()
        XCTAssertGreaterThan(counters["upstream_connect_failover"] ?? 0, 0, "\(counters)")
        XCTAssertEqual(healthy.received.count, 4)
    }

    func testAResetIsRetried() async throws {
        let healthy = try await startUpstream("healthy")
        // `/close` on the fake cuts the connection without answering, on every endpoint; one
        // endpoint whose every answer is cut stands for it here.
        let proxy = try await startProxy(clusterConfig(
            endpoints: [healthy.address],
            route: "retry_policy: { retry_on: reset, num_retries: 2, retry_back_off: { base_interval: 5ms } }"))
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/close")
        XCTAssertEqual(response.status, 502, "every attempt was cut")
        XCTAssertEqual(healthy.received.count, 3, "the first attempt and two retries")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_retry"], 2)
        XCTAssertEqual(counters["upstream_rq_retry_limit_exceeded"], 1)
    }

    func testPostIsNotRetriedUnlessItsMethodIsListed() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let proxy = try await startProxy(clusterConfig(
            endpoints: [failing.address], route: "retry_policy: { retry_on: 5xx }"))
        let client = try await connect(proxy)
        let post = try await client.request("POST", "/order", body: "one")
        XCTAssertEqual(post.status, 503)
        XCTAssertEqual(failing.received.count, 1, "a POST is sent once")
        let get = try await client.request("GET", "/order")
        XCTAssertEqual(get.status, 503)
        XCTAssertEqual(failing.received.count, 3, "a GET is retried once")

        let listed = try await startProxy(clusterConfig(
            endpoints: [failing.address], route: "retry_policy: { retry_on: 5xx, retriable_methods: [POST] }"))
        let listedClient = try await connect(listed)
        _ = try await listedClient.request("POST", "/order", body: "two")
        XCTAssertEqual(failing.received.suffix(2).map(\.body), ["two", "two"], "sent again, body and all")
    }

    func testABodyOverTheRetryBufferGoesOnceAndIsNotRetried() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let proxy = try await startProxy(clusterConfig(
            endpoints: [failing.address],
            route: "retry_policy: { retry_on: 5xx }\nper_request_buffer_limit_bytes: 1024"))
        let client = try await connect(proxy)
        let small = String(repeating: "s", count: 1000)
        _ = try await client.request("PUT", "/doc", body: small)
        XCTAssertEqual(failing.received.map(\.body), [small, small], "within the buffer: retried whole")

        let large = String(repeating: "L", count: 4096)
        let response = try await client.request("PUT", "/doc", body: large)
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(failing.received.count, 3, "over the buffer: sent once, not retried")
        XCTAssertEqual(failing.received.last?.body, large)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_retry_body_not_replayable"], 1)
    }

    func testAChunkedUploadStreamingPastTheRetryBufferIsNotRetried() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let proxy = try await startProxy(clusterConfig(
            endpoints: [failing.address],
            route: "retry_policy: { retry_on: 5xx }\nper_request_buffer_limit_bytes: 1024"))
        let client = try await connect(proxy)
        // The body streams upstream as it comes, in three writes of 800 bytes.
        try await client.send("PUT /upload HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n")
        let chunk = String(repeating: "c", count: 800)
        for _ in 1...3 { try await client.send("320\r\n\(chunk)\r\n") }
        try await client.send("0\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(failing.received.map(\.body.count), [2400], "sent once, whole, and not again")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_retry_body_not_replayable"], 1)
    }

    /// A failing endpoint, a policy that would retry it, and a breaker `setting` that forbids
    /// any retry: one attempt, and the overflow counted.
    private func assertBreakerLeavesNoRetry(_ setting: String, file: StaticString = #filePath,
                                            line: UInt = #line) async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let proxy = try await startProxy(clusterConfig(
            endpoints: [failing.address], route: "retry_policy: { retry_on: 5xx }",
            cluster: "circuit_breakers: \(setting)"))
        let response = try await connect(proxy).request("GET", "/")
        XCTAssertEqual(response.status, 503, file: file, line: line)
        XCTAssertEqual(failing.received.count, 1, file: file, line: line)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_retry_overflow"], 1, file: file, line: line)
    }

    func testAZeroRetryBudgetLeavesNoRetry() async throws {
        try await assertBreakerLeavesNoRetry("{ retry_budget: { budget_percent: 0, min_retry_concurrency: 0 } }")
    }

    func testASlowAttemptIsCutByItsPerTryTimeoutAndRetriedElsewhere() async throws {
        let slow = try await startUpstream("slow")
        slow.setOverride(.delay(3_000))
        let fast = try await startUpstream("fast")
        let proxy = try await startProxy(clusterConfig(
            endpoints: [slow.address, fast.address],
            route: "retry_policy: { retry_on: 5xx, per_try_timeout: 200ms }"))
        let client = try await connect(proxy)
        let started = ContinuousClock.now
        for _ in 1...2 {
            let response = try await client.request("GET", "/")
            XCTAssertEqual(response.status, 200, "\(response)")
            XCTAssertEqual(response.header("x-upstream"), "fast")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "nobody waited for the slow endpoint")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_per_try_timeout"], 1)
        XCTAssertNil(counters["upstream_timeout"])
    }

    func testPerTryAndRouteTimeoutsAreTold504Apart() async throws {
        let slow = try await startUpstream("slow")
        slow.setOverride(.delay(3_000))
        let perTry = try await startProxy(clusterConfig(
            endpoints: [slow.address],
            route: "timeout: 2s\nretry_policy: { retry_on: 5xx, num_retries: 1, per_try_timeout: 100ms }"))
        let perTryResponse = try await connect(perTry).request("GET", "/")
        XCTAssertEqual(perTryResponse.status, 504)
        XCTAssertEqual(perTryResponse.body, "upstream per-try timeout\n")
        let perTryCounters = await perTry.server.counters()
        XCTAssertEqual(perTryCounters["upstream_per_try_timeout"], 2, "the first attempt and its retry")
        XCTAssertNil(perTryCounters["upstream_timeout"])

        let route = try await startProxy(clusterConfig(
            endpoints: [slow.address],
            route: "timeout: 300ms\nretry_policy: { retry_on: 5xx, num_retries: 3, per_try_timeout: 1s }"))
        let routeResponse = try await connect(route).request("GET", "/")
        XCTAssertEqual(routeResponse.status, 504)
        XCTAssertEqual(routeResponse.body, "upstream request timeout\n", "the route's timeout bounds every attempt")
        let routeCounters = await route.server.counters()
        XCTAssertEqual(routeCounters["upstream_timeout"], 1)
        XCTAssertNil(routeCounters["upstream_rq_retry"])
    }

    func testMaxRetriesZeroLeavesNoRetry() async throws {
        try await assertBreakerLeavesNoRetry("{ max_retries: 0 }")
    }

    func testARouteWithoutAPolicyDoesNotRetryNorSayAttempts() async throws {
        let failing = try await startUpstream("failing")
        failing.setOverride(.status(503))
        let proxy = try await startProxy(clusterConfig(endpoints: [failing.address]))
        let response = try await connect(proxy).request("GET", "/")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(failing.received.count, 1)
        XCTAssertNil(failing.received.first?.head.headers.first(name: "x-luxy-attempt-count"))
    }
}
