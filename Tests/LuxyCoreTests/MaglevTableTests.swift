@testable import LuxyConfig
@testable import LuxyCore
import XCTest

/// `maglev`'s table: balance over equal endpoints, weights, minimal remapping when an endpoint
/// leaves, and skipping endpoints out of rotation.
final class MaglevTableTests: XCTestCase {
    private func endpoints(_ count: Int) -> [ClusterConfiguration.Endpoint] {
        (0..<count).map { ClusterConfiguration.Endpoint(host: "10.0.0.\($0 + 1)", port: 8080) }
    }

    private let keys = (0..<10_000).map { ConsistentHashRing.hash("user-\($0)") }

    private func owners(_ table: MaglevTable, _ endpoints: [ClusterConfiguration.Endpoint]) -> [String] {
        keys.map { endpoints[table.endpoint(for: $0, where: { _ in true })!].description }
    }

    func testTheTableIsFullAndEvenlyShared() {
        let table = MaglevTable(endpoints: endpoints(10), tableSize: 65_537)
        XCTAssertEqual(table.entries.count, 65_537)
        var perEndpoint = [Int](repeating: 0, count: 10)
        for entry in table.entries { perEndpoint[Int(entry)] += 1 }
        // Maglev's fill gives each endpoint ⌊M/n⌋ or ⌈M/n⌉ entries.
        for count in perEndpoint { XCTAssertTrue((6_553...6_554).contains(count), "\(perEndpoint)") }
    }

    func testEachOfTenEqualEndpointsGetsAboutATenthOfTheKeys() {
        let ten = endpoints(10)
        let counts = Dictionary(grouping: owners(MaglevTable(endpoints: ten, tableSize: 65_537), ten), by: { $0 }).mapValues(\.count)
        XCTAssertEqual(counts.count, 10)
        for (endpoint, count) in counts {
            XCTAssertEqual(Double(count) / 10_000, 0.1, accuracy: 0.02, "\(endpoint) got \(count)")
        }
    }

    func testRemovingOneOfTenEndpointsRemapsAboutATenthOfTheKeys() {
        let ten = endpoints(10)
        let nine = Array(ten.dropLast())
        let before = owners(MaglevTable(endpoints: ten, tableSize: 65_537), ten)
        let after = owners(MaglevTable(endpoints: nine, tableSize: 65_537), nine)
        var moved = 0
        var movedFromOthers = 0
        for (old, new) in zip(before, after) where old != new {
            moved += 1
            if old != ten.last!.description { movedFromOthers += 1 }
        }
        let share = Double(moved) / Double(keys.count)
        // The removed endpoint's tenth moves; Maglev moves a little more than that (a few % of the rest).
        XCTAssertGreaterThan(share, 0.08, "moved \(moved)")
        XCTAssertLessThan(share, 0.2, "moved \(moved)")
        XCTAssertLessThan(Double(movedFromOthers) / Double(keys.count), 0.05, "moved from the others: \(movedFromOthers)")
    }

    func testWeightsSetTheShares() {
        var weighted = endpoints(3)
        weighted[0].weight = 3
        weighted[1].weight = 1
        weighted[2].weight = 2
        let counts = Dictionary(grouping: owners(MaglevTable(endpoints: weighted, tableSize: 65_537), weighted), by: { $0 })
            .mapValues { Double($0.count) / 10_000 }
        XCTAssertEqual(counts[weighted[0].description] ?? 0, 0.5, accuracy: 0.03)
        XCTAssertEqual(counts[weighted[1].description] ?? 0, 1.0 / 6, accuracy: 0.03)
        XCTAssertEqual(counts[weighted[2].description] ?? 0, 1.0 / 3, accuracy: 0.03)
    }

    func testAnEndpointOutOfRotationLosesOnlyItsOwnKeys() {
        let table = MaglevTable(endpoints: endpoints(10), tableSize: 65_537)
        var moved = 0
        var spreadTo = Set<Int>()
        for key in keys.prefix(2_000) {
            let owner = table.endpoint(for: key, where: { _ in true })!
            let without3 = table.endpoint(for: key, where: { $0 != 3 })!
            if owner != 3 {
                XCTAssertEqual(without3, owner)
            } else {
                moved += 1
                spreadTo.insert(without3)
            }
        }
        XCTAssertGreaterThan(moved, 0)
        XCTAssertGreaterThan(spreadTo.count, 3, "its keys spread over the others, not onto one")
        XCTAssertNil(table.endpoint(for: keys[0], where: { _ in false }))
        XCTAssertEqual(table.endpoint(for: keys[0], where: { $0 == 7 }), 7)
    }

    func testASmallPrimeTableWorks() {
        let table = MaglevTable(endpoints: endpoints(3), tableSize: 7)
        XCTAssertEqual(table.entries.count, 7)
        XCTAssertEqual(Set(table.entries), [0, 1, 2])
    }
}
