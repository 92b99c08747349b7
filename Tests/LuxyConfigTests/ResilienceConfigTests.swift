import XCTest
@testable import LuxyConfig

/// `retry_policy`, `per_request_buffer_limit_bytes`, `circuit_breakers` and `idle_timeout`:
/// read, defaulted, and refused with file:line:column.
final class ResilienceConfigTests: XCTestCase {
    private func config(route: String = "", cluster: String = "") -> String {
        """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            virtual_hosts:
              - routes:
                  - match: { prefix: / }
                    cluster: backend
        \(route)
        clusters:
          - name: backend
            endpoints: ["127.0.0.1:8081"]
        \(cluster)
        """
    }

    private func problems(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml, file: "/x/luxy.yaml")
            XCTFail("expected a configuration error", file: file, line: line)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    func testDefaults() throws {
        let configuration = try ConfigurationLoader.parse(yaml: config(), file: "/x/luxy.yaml")
        let route = try XCTUnwrap(configuration.listeners.first?.virtualHosts.first?.routes.first)
        XCTAssertNil(route.retryPolicy)
        XCTAssertEqual(route.perRequestBufferLimitBytes, 64 * 1024)
        let cluster = try XCTUnwrap(configuration.clusters.first)
        XCTAssertEqual(cluster.circuitBreakers, CircuitBreakersConfiguration())
        XCTAssertEqual(cluster.circuitBreakers.maxRequests, 1024)
        XCTAssertEqual(cluster.circuitBreakers.retryBudgetPercent, 20)
        XCTAssertEqual(cluster.idleTimeoutMilliseconds, 60_000)
    }

    func testEverySettingIsRead() throws {
        let yaml = config(route: """
                            retry_policy:
                              retry_on: 5xx,reset,retriable-4xx
                              num_retries: 3
                              per_try_timeout: 250ms
                              retry_back_off: { base_interval: 10ms, max_interval: 1s }
                              retriable_methods: [get, post]
                            per_request_buffer_limit_bytes: 2048
                """, cluster: """
                    circuit_breakers:
                      max_connections: 10
                      max_pending_requests: 20
                      max_requests: 30
                      max_retries: 4
                      retry_budget: { budget_percent: 12.5, min_retry_concurrency: 2 }
                    idle_timeout: 30s
                """)
        let configuration = try ConfigurationLoader.parse(yaml: yaml, file: "/x/luxy.yaml")
        let route = try XCTUnwrap(configuration.listeners.first?.virtualHosts.first?.routes.first)
        let policy = try XCTUnwrap(route.retryPolicy)
        XCTAssertEqual(policy.retryOn, [.serverError, .reset, .retriable4xx])
        XCTAssertEqual(policy.numRetries, 3)
        XCTAssertEqual(policy.perTryTimeoutMilliseconds, 250)
        XCTAssertEqual(policy.backOffBaseMilliseconds, 10)
        XCTAssertEqual(policy.backOffMaxMilliseconds, 1_000)
        XCTAssertEqual(policy.retriableMethods, ["GET", "POST"])
        XCTAssertEqual(route.perRequestBufferLimitBytes, 2048)
        let cluster = try XCTUnwrap(configuration.clusters.first)
        XCTAssertEqual(cluster.circuitBreakers.maxConnections, 10)
        XCTAssertEqual(cluster.circuitBreakers.maxPendingRequests, 20)
        XCTAssertEqual(cluster.circuitBreakers.maxRequests, 30)
        XCTAssertEqual(cluster.circuitBreakers.maxRetries, 4)
        XCTAssertEqual(cluster.circuitBreakers.retryBudgetPercent, 12.5)
        XCTAssertEqual(cluster.circuitBreakers.minRetryConcurrency, 2)
        XCTAssertEqual(cluster.idleTimeoutMilliseconds, 30_000)
    }

    func testAPolicyWithOnlyRetryOnRetriesOnceIdempotentMethods() throws {
        let yaml = config(route: "            retry_policy: { retry_on: [gateway-error, connect-failure] }")
        let configuration = try ConfigurationLoader.parse(yaml: yaml, file: "/x/luxy.yaml")
        let policy = try XCTUnwrap(configuration.listeners.first?.virtualHosts.first?.routes.first?.retryPolicy)
        XCTAssertEqual(policy.retryOn, [.gatewayError, .connectFailure])
        XCTAssertEqual(policy.numRetries, 1)
        XCTAssertEqual(policy.backOffBaseMilliseconds, 25)
        XCTAssertEqual(policy.backOffMaxMilliseconds, 250)
        XCTAssertFalse(policy.retriableMethods.contains("POST"))
    }

    func testBadRetryPolicyIsRefusedWithItsPlace() {
        XCTAssertEqual(problems(config(route: "            retry_policy: { retry_on: \"5xx,teapot\" }")), [
            "/x/luxy.yaml:10:39: 'retry_on': unknown condition 'teapot'; use 5xx, gateway-error, reset, "
                + "connect-failure, retriable-4xx, refused-stream",
        ])
        XCTAssertEqual(problems(config(route: "            retry_policy: { num_retries: 2 }")), [
            "/x/luxy.yaml:10:27: missing required key 'retry_on' in retry_policy",
        ])
        XCTAssertEqual(problems(config(route: "            retry_policy: { retry_on: 5xx, per_try_timeout: soon }")), [
            "/x/luxy.yaml:10:61: 'per_try_timeout' must be a duration above zero such as 250ms, 2s or 1m",
        ])
        XCTAssertEqual(problems(config(route: "            retry_policy: { retry_on: 5xx, retries: 2 }")), [
            "/x/luxy.yaml:10:44: unknown key 'retries' in retry_policy",
        ])
    }

    func testBadCircuitBreakersAreRefusedWithTheirPlace() {
        XCTAssertEqual(problems(config(cluster: "    circuit_breakers: { max_requests: 0 }")), [
            "/x/luxy.yaml:14:39: 'max_requests' must be a positive integer",
        ])
        XCTAssertEqual(problems(config(cluster: "    circuit_breakers: { retry_budget: { budget_percent: 150 } }")),
                       ["/x/luxy.yaml:14:57: 'budget_percent' must be a number from 0 to 100"])
        XCTAssertEqual(problems(config(cluster: "    idle_timeout: 0s")), [
            "/x/luxy.yaml:14:19: 'idle_timeout' must be a duration above zero such as 250ms, 2s or 1m",
        ])
    }
}
