@testable import LuxyConfig
@testable import LuxyCore
import NIOEmbedded
import XCTest

/// Outlier detection's interval triggers: success rate (mean − factor × stdev over endpoints
/// with the request volume, only with enough of them), failure percentage (an absolute bar),
/// and the cluster's interval that applies them.
final class OutlierIntervalRuleTests: XCTestCase {
    private let rule = SuccessRateOutlierRule(minimumHosts: 5, requestVolume: 100, stdevFactor: 1900)

    private func samples(_ rates: [(requests: Int, successes: Int)]) -> [EndpointIntervalSample] {
        rates.enumerated().map { .init(endpointIndex: $0.offset, requests: $0.element.requests, successes: $0.element.successes) }
    }

    func testAnEndpointFarBelowTheOthersIsAnOutlier() throws {
        // Four at 100 %, one at 60 %: mean 92, stdev 16, threshold 92 − 1.9 × 16 = 61.6.
        let verdict = try XCTUnwrap(rule.evaluate(samples([(100, 100), (100, 100), (100, 100), (100, 100), (100, 60)])))
        XCTAssertEqual(verdict.average, 92, accuracy: 1e-9)
        XCTAssertEqual(verdict.ejectionThreshold, 61.6, accuracy: 1e-9)
        XCTAssertEqual(verdict.outliers, [4])
    }

    func testTheStdevFactorDecides() throws {
        // Same figures, factor 2.1: the threshold 92 − 33.6 = 58.4 is below 60.
        let strict = SuccessRateOutlierRule(minimumHosts: 5, requestVolume: 100, stdevFactor: 2100)
        let verdict = try XCTUnwrap(strict.evaluate(samples([(100, 100), (100, 100), (100, 100), (100, 100), (100, 60)])))
        XCTAssertEqual(verdict.ejectionThreshold, 58.4, accuracy: 1e-9)
        XCTAssertEqual(verdict.outliers, [])
    }

    func testSpreadRatesHaveNoOutlier() throws {
        let verdict = try XCTUnwrap(rule.evaluate(samples([(100, 95), (100, 90), (100, 97), (100, 92), (100, 88)])))
        XCTAssertEqual(verdict.outliers, [])
    }

    func testEqualRatesHaveNoOutlier() throws {
        let verdict = try XCTUnwrap(rule.evaluate(samples(Array(repeating: (200, 150), count: 6))))
        XCTAssertEqual(verdict.ejectionThreshold, 75, accuracy: 1e-9)
        XCTAssertEqual(verdict.outliers, [])
    }

    func testEndpointsBelowTheRequestVolumeAreNotCompared() {
        // The bad one has 99 requests: not compared, and then only four are, fewer than five.
        XCTAssertNil(rule.evaluate(samples([(100, 100), (100, 100), (100, 100), (100, 100), (99, 0)])))
        let verdict = rule.evaluate(samples([(100, 100), (100, 100), (100, 100), (100, 100), (100, 99), (99, 0)]))
        XCTAssertEqual(verdict?.outliers, [4], "the low-volume one is left alone; among the five compared, 99 % is the outlier")
    }

    func testFewerThanTheMinimumHostsComparesNothing() {
        XCTAssertNil(rule.evaluate(samples([(100, 100), (100, 100), (100, 100), (100, 0)])))
        let three = SuccessRateOutlierRule(minimumHosts: 3, requestVolume: 10, stdevFactor: 1000)
        XCTAssertEqual(three.evaluate(samples([(10, 10), (10, 10), (10, 10), (10, 0)]))?.outliers, [3])
    }

    // MARK: - The cluster's interval

    private let loop = EmbeddedEventLoop()

    private func cluster(endpoints: Int, _ configure: (inout OutlierDetectionConfiguration) -> Void) -> UpstreamCluster {
        var config = ClusterConfiguration(
            name: "pool", endpoints: (0..<endpoints).map { .init(host: "127.0.0.1", port: 9000 + $0) },
            location: SourceLocation(file: "/t", line: 1, column: 1))
        configure(&config.outlierDetection)
        return UpstreamCluster(config: config, eventLoop: loop, shared: LoopShared(eventLoop: loop))
    }

    /// Five endpoints judged by the interval triggers only: a one-second interval, the
    /// consecutive-failure triggers off.
    private func intervalCluster(_ configure: (inout OutlierDetectionConfiguration) -> Void) -> UpstreamCluster {
        cluster(endpoints: 5) {
            $0.intervalMilliseconds = 1_000
            $0.consecutive5xx = 0
            $0.consecutiveGatewayFailure = 0
            configure(&$0)
        }
    }

    /// Ends the interval; endpoint 4 must be the one ejected, the others all stay.
    private func endIntervalEjectingEndpoint4Alone(_ pool: UpstreamCluster, file: StaticString = #filePath,
                                                   line: UInt = #line) {
        loop.advanceTime(by: .milliseconds(1_000))
        guard case .ejected = pool.health[4].ejection else {
            return XCTFail("endpoint 4 not ejected", file: file, line: line)
        }
        for endpoint in 0..<4 { XCTAssertEqual(pool.health[endpoint].ejection, .included, file: file, line: line) }
    }

    private func record(_ pool: UpstreamCluster, endpoint: Int, _ outcome: UpstreamAttemptOutcome, times: Int) {
        for _ in 0..<times {
            pool.health[endpoint].activeRequests += 1
            pool.recordOutcome(of: UpstreamPick(endpointIndex: endpoint, pool: pool.pools[endpoint]), outcome)
        }
    }

    func testTheIntervalEjectsTheOutlierOverTheRequestsOfThatIntervalOnly() {
        let pool = intervalCluster {
            $0.successRateRequestVolume = 10
            $0.maxEjectionPercent = 50
        }
        XCTAssertNotNil(pool.outlierIntervalTimer)
        // A first interval where endpoint 4 fails a lot but the others are too few with volume.
        record(pool, endpoint: 4, .status5xx, times: 20)
        loop.advanceTime(by: .milliseconds(1_000))
        XCTAssertEqual(pool.health[4].ejection, .included)
        XCTAssertEqual(pool.health[4].lastIntervalRequests, 20)
        // Second interval: every endpoint has volume; 4 answers 60 % where the others answer all.
        for endpoint in 0..<4 { record(pool, endpoint: endpoint, .success, times: 10) }
        record(pool, endpoint: 4, .success, times: 6)
        record(pool, endpoint: 4, .status5xx, times: 4)
        endIntervalEjectingEndpoint4Alone(pool)
        XCTAssertEqual(pool.health[4].lastIntervalRequests, 10, "only the second interval's requests")
        XCTAssertEqual(pool.health[4].lastIntervalSuccesses, 6)
        XCTAssertEqual(pool.health[4].timesEjected, 1)
        pool.close()
    }

    func testNoTimerWhereSuccessRatesCanNeverBeCompared() {
        XCTAssertNil(cluster(endpoints: 4) { _ in }.outlierIntervalTimer, "fewer endpoints than success_rate_minimum_hosts")
        XCTAssertNil(cluster(endpoints: 6) { $0.enforcingSuccessRate = 0 }.outlierIntervalTimer)
        XCTAssertNil(cluster(endpoints: 6) { $0.enabled = false }.outlierIntervalTimer)
        let running = cluster(endpoints: 6) { _ in }
        XCTAssertNotNil(running.outlierIntervalTimer)
        running.close()
        XCTAssertNil(running.outlierIntervalTimer)
        let failurePercentageOnly = cluster(endpoints: 5) {
            $0.enforcingSuccessRate = 0
            $0.enforcingFailurePercentage = 100
        }
        XCTAssertNotNil(failurePercentageOnly.outlierIntervalTimer)
        failurePercentageOnly.close()
    }

    // MARK: - Failure percentage

    func testFailurePercentageTakesEveryEndpointAtOrOverTheBar() {
        let rule = FailurePercentageOutlierRule(minimumHosts: 5, requestVolume: 50, threshold: 85)
        // 85 % and 100 % failures are out, 84 % is not, whatever the others do.
        XCTAssertEqual(rule.outliers(samples([(50, 50), (50, 49), (100, 15), (60, 0), (50, 8)])), [2, 3])
        // Below the volume: not judged, and then four are too few.
        XCTAssertEqual(rule.outliers(samples([(50, 50), (50, 49), (100, 15), (49, 0)])), [])
    }

    func testTheIntervalEjectsByFailurePercentageWhenEnforced() {
        let pool = intervalCluster {
            $0.enforcingSuccessRate = 0
            $0.enforcingFailurePercentage = 100
            $0.failurePercentageRequestVolume = 10
        }
        for endpoint in 0..<4 { record(pool, endpoint: endpoint, .success, times: 10) }
        record(pool, endpoint: 4, .success, times: 1)
        record(pool, endpoint: 4, .gatewayFailure, times: 9)
        endIntervalEjectingEndpoint4Alone(pool)
        pool.close()
    }
}
