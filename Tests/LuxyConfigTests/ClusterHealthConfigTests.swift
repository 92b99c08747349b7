import XCTest
@testable import LuxyConfig

/// Endpoint weights, `lb_policy`, `hash_policy`, `outlier_detection`, `health_checks` and
/// `healthy_panic_threshold`: read, defaulted, and refused with file:line:column.
final class ClusterHealthConfigTests: XCTestCase {
    private func config(_ clusterExtra: String, endpoints: String = "[\"127.0.0.1:8081\"]") -> String {
        """
        listeners:
          - name: in
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:80
            cluster: backend
        clusters:
          - name: backend
            endpoints: \(endpoints)
        \(clusterExtra)
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

    func testDefaultsAreSafe() throws {
        let cluster = try XCTUnwrap(ConfigurationLoader.parse(yaml: config(""), file: "/x/luxy.yaml").clusters.first)
        XCTAssertEqual(cluster.outlierDetection, OutlierDetectionConfiguration())
        XCTAssertTrue(cluster.outlierDetection.enabled)
        XCTAssertEqual(cluster.outlierDetection.consecutiveGatewayFailure, 5)
        XCTAssertEqual(cluster.outlierDetection.baseEjectionMilliseconds, 30_000)
        XCTAssertEqual(cluster.outlierDetection.intervalMilliseconds, 10_000)
        XCTAssertEqual(cluster.outlierDetection.successRateMinimumHosts, 5)
        XCTAssertEqual(cluster.outlierDetection.successRateRequestVolume, 100)
        XCTAssertEqual(cluster.outlierDetection.successRateStdevFactor, 1900)
        XCTAssertEqual(cluster.outlierDetection.enforcingSuccessRate, 100)
        XCTAssertEqual(cluster.outlierDetection.enforcingConsecutive5xx, 100)
        XCTAssertEqual(cluster.outlierDetection.enforcingConsecutiveGatewayFailure, 100)
        XCTAssertEqual(cluster.outlierDetection.failurePercentageThreshold, 85)
        XCTAssertEqual(cluster.outlierDetection.enforcingFailurePercentage, 0)
        XCTAssertEqual(cluster.healthyPanicThreshold, 50)
        XCTAssertTrue(cluster.healthChecks.isEmpty)
        XCTAssertEqual(cluster.endpoints.first?.weight, 1)
    }

    func testEverythingRead() throws {
        let yaml = config("""
            lb_policy: ring_hash
            hash_policy:
              - header: { header_name: X-User }
              - cookie: { name: session }
              - connection_properties: { source_ip: true }
              - path: true
            healthy_panic_threshold: 30
            outlier_detection: { consecutive_5xx: 3, consecutive_gateway_failure: 0, base_ejection_time: 2s,
                                 max_ejection_time: 10s, max_ejection_percent: 50, interval: 2s,
                                 success_rate_minimum_hosts: 3, success_rate_request_volume: 20,
                                 success_rate_stdev_factor: 1000, enforcing_success_rate: 50,
                                 enforcing_consecutive_5xx: 80, enforcing_consecutive_gateway_failure: 0,
                                 failure_percentage_threshold: 70, enforcing_failure_percentage: 100,
                                 failure_percentage_minimum_hosts: 2, failure_percentage_request_volume: 30 }
            health_checks:
              - http: { path: /healthz, method: head, host: svc.local, expected_statuses: [200, { start: 300, end: 400 }] }
                interval: 100ms
                interval_jitter: 20ms
                timeout: 50ms
                healthy_threshold: 2
                unhealthy_threshold: 4
        """, endpoints: "[\"127.0.0.1:8081\", { address: \"127.0.0.1:8082\", weight: 3 }]")
        let cluster = try XCTUnwrap(ConfigurationLoader.parse(yaml: yaml, file: "/x/luxy.yaml").clusters.first)
        XCTAssertEqual(cluster.endpoints.map(\.weight), [1, 3])
        XCTAssertEqual(cluster.loadBalancing, .ringHash)
        XCTAssertEqual(cluster.hashPolicy, [.header("x-user"), .cookie("session"), .sourceIP, .path])
        XCTAssertEqual(cluster.healthyPanicThreshold, 30)
        XCTAssertEqual(cluster.outlierDetection.consecutive5xx, 3)
        XCTAssertEqual(cluster.outlierDetection.consecutiveGatewayFailure, 0)
        XCTAssertEqual(cluster.outlierDetection.baseEjectionMilliseconds, 2_000)
        XCTAssertEqual(cluster.outlierDetection.maxEjectionPercent, 50)
        XCTAssertEqual(cluster.outlierDetection.intervalMilliseconds, 2_000)
        XCTAssertEqual(cluster.outlierDetection.successRateMinimumHosts, 3)
        XCTAssertEqual(cluster.outlierDetection.successRateRequestVolume, 20)
        XCTAssertEqual(cluster.outlierDetection.successRateStdevFactor, 1000)
        XCTAssertEqual(cluster.outlierDetection.enforcingSuccessRate, 50)
        XCTAssertEqual(cluster.outlierDetection.enforcingConsecutive5xx, 80)
        XCTAssertEqual(cluster.outlierDetection.enforcingConsecutiveGatewayFailure, 0)
        XCTAssertEqual(cluster.outlierDetection.failurePercentageThreshold, 70)
        XCTAssertEqual(cluster.outlierDetection.enforcingFailurePercentage, 100)
        XCTAssertEqual(cluster.outlierDetection.failurePercentageMinimumHosts, 2)
        XCTAssertEqual(cluster.outlierDetection.failurePercentageRequestVolume, 30)
        let check = try XCTUnwrap(cluster.healthChecks.first)
        guard case .http(let http) = check.probe else { return XCTFail("not http") }
        XCTAssertEqual(http.method, "HEAD")
        XCTAssertEqual(http.host, "svc.local")
        XCTAssertTrue(http.accepts(200) && http.accepts(399) && !http.accepts(400) && !http.accepts(204))
        XCTAssertEqual(check.intervalMilliseconds, 100)
        XCTAssertEqual(check.intervalJitterMilliseconds, 20)
        XCTAssertEqual(check.timeoutMilliseconds, 50)
        XCTAssertEqual(check.healthyThreshold, 2)
        XCTAssertEqual(check.unhealthyThreshold, 4)
        let tcp = try ConfigurationLoader.parse(yaml: config("    health_checks: [{ tcp: {} }]\n    lb_policy: least_request"),
                                                file: "/x/luxy.yaml").clusters[0]
        XCTAssertEqual(tcp.healthChecks.first?.probe, .tcp)
        XCTAssertEqual(tcp.loadBalancing, .leastRequest)
    }

    func testMaglevIsReadWithItsTableSize() throws {
        let plain = try XCTUnwrap(ConfigurationLoader.parse(yaml: config("    lb_policy: maglev"), file: "/x/luxy.yaml").clusters.first)
        XCTAssertEqual(plain.loadBalancing, .maglev)
        XCTAssertEqual(plain.maglevTableSize, 65_537)
        let yaml = config("""
            lb_policy: maglev
            maglev: { table_size: 251 }
            hash_policy: [{ header: { header_name: x-user } }]
        """)
        let sized = try XCTUnwrap(ConfigurationLoader.parse(yaml: yaml, file: "/x/luxy.yaml").clusters.first)
        XCTAssertEqual(sized.maglevTableSize, 251)
        XCTAssertEqual(sized.hashPolicy, [.header("x-user")])
    }

    func testBadValuesSayWhere() {
        XCTAssertEqual(problems(config("", endpoints: "[{ address: \"127.0.0.1:8082\", weight: 0 }]")), [
            "/x/luxy.yaml:9:54: 'weight' must be a positive integer",
        ])
        XCTAssertEqual(problems(config("    hash_policy: [{ path: true }]")), [
            "/x/luxy.yaml:10:18: 'hash_policy' needs 'lb_policy: ring_hash' or 'maglev'",
        ])
        XCTAssertEqual(problems(config("    health_checks: [{ interval: 1s }]")), [
            "/x/luxy.yaml:10:21: a health check needs exactly one of 'http' or 'tcp'",
        ])
        XCTAssertEqual(problems(config("    outlier_detection: { max_ejection_percent: 150 }")), [
            "/x/luxy.yaml:10:48: 'max_ejection_percent' must be a percentage within 0...100",
        ])
        XCTAssertEqual(problems(config("    outlier_detection: { success_rate_minimum_hosts: 0, enforcing_success_rate: 101 }")), [
            "/x/luxy.yaml:10:54: 'success_rate_minimum_hosts' must be a positive integer",
            "/x/luxy.yaml:10:81: 'enforcing_success_rate' must be a percentage within 0...100",
        ])
        XCTAssertEqual(problems(config("    health_checks: [{ http: { path: healthz } }]")).first,
                       "/x/luxy.yaml:10:37: 'path' must start with '/'")
        XCTAssertEqual(problems(config("    lb_policy: maglev\n    maglev: { table_size: 65536 }")), [
            "/x/luxy.yaml:11:27: 'table_size' must be a prime number no larger than 5000011",
        ])
        XCTAssertEqual(problems(config("    maglev: { table_size: 65537 }")), [
            "/x/luxy.yaml:10:13: 'maglev' needs 'lb_policy: maglev'",
        ])
        XCTAssertEqual(problems(config("    lb_policy: magnet")).count, 1)
        XCTAssertEqual(problems(config("    health_checks: [{ tcp: {} }, { tcp: {} }]")), [
            "/x/luxy.yaml:10:34: only one health check per cluster is supported",
        ])
    }
}
