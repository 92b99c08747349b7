import LuxyTestSupport
import NIOConcurrencyHelpers
import XCTest

/// CHAOS TEST — about 16 s of bounded load; the one long test of the resilience work.
///
/// Three endpoints behind one cluster whose route retries (`5xx, gateway-error, reset,
/// connect-failure`, two retries, each to an endpoint not tried yet). While four clients send
/// sequential GETs for 15 s: `alpha` is killed (its open connections cut) and started again on
/// its port, `bravo` answers 503 for a while, `charlie` answers every request 100 ms late
/// (within the timeouts). The clients must see no error at all. Retries, the default connect
/// failover, outlier ejection (1 s base ejection) and active health checks (every 100 ms)
/// all take part, as they would in production.
final class ChaosTests: ResilienceTestCase {
    private struct Tally: Sendable {
        var requests = 0
        var errors: [String] = []
        var byEndpoint: [String: Int] = [:]
    }

    func testChaosThreeEndpointsUnderLoadTheClientsSeeNoError() async throws {
        let alpha = try await startUpstream("alpha")
        let restartedAlpha = NIOLockedValueBox<FakeUpstream?>(nil)
        let alphaPort = alpha.port
        let bravo = try await startUpstream("bravo")
        let charlie = try await startUpstream("charlie")
        charlie.setOverride(.delay(100))
        // The retry budget is per loop; four clients may all be retrying at once on one loop.
        let proxy = try await startProxy(clusterConfig(
            endpoints: [alpha.address, bravo.address, charlie.address],
            route: """
                timeout: 5s
                retry_policy:
                  retry_on: 5xx,gateway-error,reset,connect-failure
                  num_retries: 2
                  per_try_timeout: 1s
                  retry_back_off: { base_interval: 10ms, max_interval: 50ms }
                """,
            cluster: """
                circuit_breakers: { retry_budget: { min_retry_concurrency: 8 }, max_retries: 8 }
                outlier_detection: { base_ejection_time: 1s }
                health_checks:
                  - http: { path: /health }
                    interval: 100ms
                    timeout: 200ms
                    unhealthy_threshold: 2
                    healthy_threshold: 1
                """,
            workers: 2))

        let tally = NIOLockedValueBox(Tally())
        let start = ContinuousClock.now
        let loadEnds = start + .seconds(15)
        let port = await proxy.port("inbound")
        let group = self.group!
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for client in 0..<4 {
                tasks.addTask {
                    var connection = try await TestHTTPConnection.connect(port: port, group: group)
                    // Bounded in time and in count.
                    var sent = 0
                    while ContinuousClock.now < loadEnds, sent < 20_000 {
                        sent += 1
                        do {
                            let response = try await connection.request("GET", "/c\(client)/\(sent)")
                            tally.withLockedValue {
                                $0.requests += 1
                                if response.status != 200 { $0.errors.append("\(response.status): \(response.body)") }
                                $0.byEndpoint[response.header("x-upstream") ?? "?", default: 0] += 1
                            }
                        } catch {
                            tally.withLockedValue { $0.errors.append("client \(client): \(error)") }
                            await connection.close()
                            connection = try await TestHTTPConnection.connect(port: port, group: group)
                        }
                    }
                    await connection.close()
                }
            }
            // The chaos follows the load's progress (requests answered), not the clock.
            tasks.addTask {
                func answered(_ count: Int) async {
                    _ = await waitUntil(timeout: .seconds(15)) { tally.withLockedValue { $0.requests } >= count }
                }
                await answered(150)
                await alpha.kill()
                await answered(300)
                bravo.setOverride(.status(503))
                await answered(500)
                let restarted = try await FakeUpstream.start(name: "alpha", group: group, port: alphaPort)
                restartedAlpha.withLockedValue { $0 = restarted }
                await answered(700)
                bravo.setOverride(.none)
            }
            try await tasks.waitForAll()
        }
        let restarted = restartedAlpha.withLockedValue { $0 }
        await restarted?.stop()

        let result = tally.withLockedValue { $0 }
        let counters = await proxy.server.counters()
        let figures = """
            chaos: \(result.requests) requests in 15 s, \(result.errors.count) client errors; \
            answered by \(result.byEndpoint.sorted { $0.key < $1.key }); \
            retries \(counters["upstream_rq_retry"] ?? 0), connect failures \(counters["upstream_connect_failed"] ?? 0) \
            (failovers \(counters["upstream_connect_failover"] ?? 0)), \
            resets \(counters["upstream_reset"] ?? 0), stale-connection retries \
            \(counters["upstream_retry_stale_connection"] ?? 0), per-try timeouts \
            \(counters["upstream_per_try_timeout"] ?? 0), retry overflow \(counters["upstream_rq_retry_overflow"] ?? 0); \
            received: alpha \(alpha.received.count) before the kill and \(restarted?.received.count ?? 0) after the \
            restart, bravo \(bravo.received.count), charlie \(charlie.received.count)
            """
        print(figures)
        XCTAssertEqual(result.errors.count, 0, "first errors: \(result.errors.prefix(5)); \(figures)")
        XCTAssertGreaterThan(result.requests, 200, figures)
        let retriedOrFailedOver = (counters["upstream_rq_retry"] ?? 0) + (counters["upstream_connect_failover"] ?? 0)
        XCTAssertGreaterThan(retriedOrFailedOver, 0, "the chaos did reach the proxy: \(figures)")
        XCTAssertGreaterThan(restarted?.received.count ?? 0, 0, "alpha came back into rotation: \(figures)")
    }
}
