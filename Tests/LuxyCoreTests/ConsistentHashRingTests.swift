@testable import LuxyConfig
@testable import LuxyCore
import XCTest

/// `ring_hash`'s ring: keys spread by weight, and an endpoint that leaves takes only its own
/// share of the keys with it.
final class ConsistentHashRingTests: XCTestCase {
    private func endpoints(_ count: Int) -> [ClusterConfiguration.Endpoint] {
        (0..<count).map { ClusterConfiguration.Endpoint(host: "10.0.0.\($0 + 1)", port: 8080) }
    }

    private func owner(of key: String, in ring: ConsistentHashRing, _ endpoints: [ClusterConfiguration.Endpoint]) -> String {
        endpoints[ring.endpoint(for: ConsistentHashRing.hash(key), where: { _ in true })!].description
    }

    func testRemovingOneOfTenEndpointsRemapsAboutATenthOfTheKeys() {
        let ten = endpoints(10)
        let nine = Array(ten.dropLast())
        let before = ConsistentHashRing(endpoints: ten)
        let after = ConsistentHashRing(endpoints: nine)
        let keys = (0..<10_000).map { "user-\($0)" }
        var moved = 0
        for key in keys {
            let old = owner(of: key, in: before, ten)
            let new = owner(of: key, in: after, nine)
            if old != new {
                moved += 1
                // Only the removed endpoint's keys move; everyone else keeps theirs.
                XCTAssertEqual(old, ten.last!.description, key)
            }
        }
        let share = Double(moved) / Double(keys.count)
        XCTAssertEqual(share, 0.1, accuracy: 0.03, "moved \(moved) of \(keys.count)")
    }

    func testSkippingAnEndpointMovesItsKeysToTheNextOnTheRingOnly() {
        let ten = endpoints(10)
        let ring = ConsistentHashRing(endpoints: ten)
        var moved = 0
        for index in 0..<2_000 {
            let key = ConsistentHashRing.hash("k\(index)")
            let owner = ring.endpoint(for: key, where: { _ in true })!
            let without3 = ring.endpoint(for: key, where: { $0 != 3 })!
            if owner != 3 { XCTAssertEqual(without3, owner) } else { moved += 1 }
        }
        XCTAssertGreaterThan(moved, 0)
    }

    func testWeightsSetTheShares() {
        var weighted = endpoints(2)
        weighted[0].weight = 3
        let ring = ConsistentHashRing(endpoints: weighted)
        var first = 0
        for index in 0..<8_000 where ring.endpoint(for: ConsistentHashRing.hash("w\(index)"), where: { _ in true }) == 0 {
            first += 1
        }
        XCTAssertEqual(Double(first) / 8_000, 0.75, accuracy: 0.05)
    }
}
