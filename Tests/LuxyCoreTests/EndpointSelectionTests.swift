@testable import LuxyConfig
@testable import LuxyCore
import NIOEmbedded
import NIOHTTP1
import XCTest

/// `UpstreamCluster.pickPool`: weights, exclusions, skipping endpoints out of rotation, the
/// panic threshold. (On real sockets: EndpointHealthTests.)
final class EndpointSelectionTests: XCTestCase {
    private let loop = EmbeddedEventLoop()

    private func cluster(weights: [Int], policy: LoadBalancingPolicy = .roundRobin, panic: Int = 50,
                         outlier: (inout OutlierDetectionConfiguration) -> Void = { _ in }) -> UpstreamCluster {
        var config = ClusterConfiguration(
            name: "pool", endpoints: weights.enumerated().map { .init(host: "127.0.0.1", port: 9000 + $0.offset, weight: $0.element) },
            loadBalancing: policy, location: SourceLocation(file: "/t", line: 1, column: 1))
        config.healthyPanicThreshold = panic
        outlier(&config.outlierDetection)
        return UpstreamCluster(config: config, eventLoop: loop, shared: LoopShared(eventLoop: loop))
    }

    private func picks(_ cluster: UpstreamCluster, _ count: Int, excluding: UpstreamEndpointSet = .none) -> [Int] {
        (0..<count).compactMap { _ in
            guard let pick = cluster.pickPool(excluding: excluding) else { return nil }
            cluster.recordOutcome(of: pick, .abandoned)
            return pick.endpointIndex
        }
    }

    func testSmoothWeightedRoundRobinKeepsTheShares() {
        let chosen = picks(cluster(weights: [3, 1]), 40)
        XCTAssertEqual(chosen.filter { $0 == 0 }.count, 30)
        // Spread, not in a block: never more than three of the heavy one in a row.
        XCTAssertFalse(chosen.map(String.init).joined().contains("0000"))
    }

    func testExcludedAndUnavailableEndpointsAreSkipped() {
        let pool = cluster(weights: [1, 1, 1, 1])
        var tried = UpstreamEndpointSet.none
        tried.insert(2)
        XCTAssertFalse(picks(pool, 12, excluding: tried).contains(2))
        pool.setActiveHealth(of: 1, to: .failing)
        XCTAssertEqual(Set(picks(pool, 12)), [0, 2, 3])
        for policy in [LoadBalancingPolicy.random, .leastRequest, .ringHash, .maglev] {
            let other = cluster(weights: [1, 1, 1, 1], policy: policy)
            other.setActiveHealth(of: 1, to: .failing)
            XCTAssertFalse(picks(other, 40).contains(1), "\(policy)")
        }
    }

    func testMaglevSkipsAnEndpointOutOfRotationAndTheOtherKeysStay() {
        let pool = cluster(weights: [1, 1, 1, 1], policy: .maglev)
        let keys = (0..<400).map { ConsistentHashRing.hash("key-\($0)") }
        let owners = {
            keys.map { key -> Int in
                let pick = pool.pickPool(hashKey: key)!
                pool.recordOutcome(of: pick, .abandoned)
                return pick.endpointIndex
            }
        }
        let before = owners()
        XCTAssertEqual(Set(before), [0, 1, 2, 3])
        pool.setActiveHealth(of: 2, to: .failing)
        let after = owners()
        XCTAssertFalse(after.contains(2))
        for (old, new) in zip(before, after) where old != 2 { XCTAssertEqual(old, new) }
    }

    func testBelowThePanicThresholdEveryEndpointIsUsed() {
        let pool = cluster(weights: [1, 1, 1, 1])
        pool.setActiveHealth(of: 0, to: .failing)
        pool.setActiveHealth(of: 1, to: .failing)
        // Two of four is 50%: not below the threshold yet.
        XCTAssertEqual(Set(picks(pool, 8)), [2, 3])
        pool.setActiveHealth(of: 2, to: .failing)
        XCTAssertEqual(Set(picks(pool, 8)), [0, 1, 2, 3])
        pool.setActiveHealth(of: 2, to: .healthy)
        XCTAssertEqual(Set(picks(pool, 8)), [2, 3])
    }

    func testLeastRequestPrefersTheIdleEndpoint() {
        let pool = cluster(weights: [1, 1], policy: .leastRequest)
        let busy = pool.pickPool()!
        for _ in 0..<20 {
            let pick = pool.pickPool()!
            XCTAssertNotEqual(pick.endpointIndex, busy.endpointIndex)
            pool.recordOutcome(of: pick, .success)
        }
    }

    func testAnUnenforcedTriggerNeverEjects() {
        let pool = cluster(weights: [1, 1, 1]) {
            $0.enforcingConsecutiveGatewayFailure = 0
            $0.enforcingConsecutive5xx = 0
        }
        for _ in 0..<20 {
            let pick = UpstreamPick(endpointIndex: 1, pool: pool.pools[1])
            pool.health[1].activeRequests += 1
            pool.recordOutcome(of: pick, .gatewayFailure)
        }
        XCTAssertEqual(pool.health[1].ejection, .included)
        XCTAssertEqual(pool.health[1].timesEjected, 0)
    }

    func testConsecutiveGatewayFailuresEjectAndTheTimerBringsItBack() {
        let pool = cluster(weights: [1, 1, 1])
        for _ in 0..<5 {
            let pick = UpstreamPick(endpointIndex: 1, pool: pool.pools[1])
            pool.health[1].activeRequests += 1
            pool.recordOutcome(of: pick, .gatewayFailure)
        }
        guard case .ejected = pool.health[1].ejection else { return XCTFail("not ejected") }
        XCTAssertFalse(picks(pool, 9).contains(1))
        loop.advanceTime(by: .seconds(31))
        XCTAssertEqual(pool.health[1].ejection, .included)
        XCTAssertTrue(picks(pool, 9).contains(1))
    }

    func testTheHashPolicysCookieIsFoundAmongOthersAndOverLines() {
        let headers = HTTPHeaders([("Cookie", "theme=dark; session=abc123 ;lang=en"), ("cookie", "cart=7")])
        XCTAssertEqual(UpstreamCluster.cookie(named: "session", in: headers), "abc123")
        XCTAssertEqual(UpstreamCluster.cookie(named: "lang", in: headers), "en")
        XCTAssertEqual(UpstreamCluster.cookie(named: "cart", in: headers), "7")
        XCTAssertNil(UpstreamCluster.cookie(named: "sess", in: headers))
        XCTAssertNil(UpstreamCluster.cookie(named: "session", in: HTTPHeaders([("x-cookie", "session=1")])))
    }

    func testRandomAndLeastRequestSpreadOverEveryEndpoint() {
        for policy in [LoadBalancingPolicy.random, .leastRequest] {
            let counts = Dictionary(grouping: picks(cluster(weights: [1, 1, 1, 1], policy: policy), 4_000), by: { $0 })
                .mapValues(\.count)
            for endpoint in 0..<4 {
                XCTAssertEqual(Double(counts[endpoint] ?? 0) / 4_000, 0.25, accuracy: 0.05, "\(policy): \(counts)")
            }
        }
    }
}
