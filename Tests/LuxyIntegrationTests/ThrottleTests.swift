import Foundation
import LuxyTestSupport
import XCTest

/// `modules/throttle-route.lua` and `throttle-service.lua`: a limit of N a second, shared by
/// two workers through a shared dictionary, lets N through and answers 429 with the
/// rate-limit headers for the rest.
///
/// Made robust against the clock: the bucket starts full, so the first N always pass; tokens
/// come back one every 1/N s while the burst runs, so the burst's own duration bounds how many
/// more may pass (`N + elapsed / interval + 1`). Unshared per-worker buckets would let 2N
/// through, which that bound refuses unless the burst itself took near a second.
final class ThrottleTests: IntegrationTestCase {
    private let limit = 5

    /// `key` nil: the module's default. Routes `backend` (`/`) and `second` (`/second`) both
    /// go to the service `bookstore`.
    private func config(module: String, key: String?) -> String {
        standardConfig(inboundStages: """
            - name: \(module)
              priority: 500
              config: { requests: \(limit), period: 1, \(key.map { "key: \($0)," } ?? "") dict: "throttle-\(UUID().uuidString)" }
        """, routes: """
                  - name: second
                    match: { prefix: /second }
                    cluster: backend
                    service: bookstore
        """, workers: 2)
    }

    /// What a burst got, and how long it took.
    private struct Burst {
        var statuses: [Int]
        var limited: [TestHTTPResponse]
        var seconds: Double
    }

    private func burst(_ proxy: TestProxy, count: Int, paths: [String]) async throws -> Burst {
        let started = ContinuousClock.now
        var statuses: [Int] = []
        var limited: [TestHTTPResponse] = []
        for index in 0..<count {
            // A connection each, so the requests spread over both workers.
            let client = try await connect(proxy)
            let response = try await client.request("GET", paths[index % paths.count])
            statuses.append(response.status)
            if response.status == 429 { limited.append(response) }
            await client.close()
        }
        let elapsed = ContinuousClock.now - started
        return Burst(statuses: statuses, limited: limited,
                     seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// One burst of 3N over `paths` in turn, all under one bucket.
    private func assertLimited(_ proxy: TestProxy, paths: [String] = ["/api"]) async throws {
        let result = try await burst(proxy, count: 3 * limit, paths: paths)
        let (statuses, limited, seconds) = (result.statuses, result.limited, result.seconds)
        let passed = statuses.filter { $0 == 200 }.count
        XCTAssertEqual(passed + limited.count, 3 * limit, "only 200 and 429: \(statuses)")
        let refills = Int(seconds * Double(limit))
        XCTAssertGreaterThanOrEqual(passed, limit, "\(statuses)")
        XCTAssertLessThanOrEqual(passed, limit + refills + 1, "over \(seconds) s: \(statuses)")
        XCTAssertEqual(statuses.prefix(limit).filter { $0 == 200 }.count, limit, "the first N pass: \(statuses)")
        for response in limited {
            XCTAssertEqual(response.header("x-ratelimit-limit"), "\(limit)")
            XCTAssertEqual(response.header("x-ratelimit-remaining"), "0")
            XCTAssertGreaterThanOrEqual(Int(response.header("retry-after") ?? "") ?? 0, 1)
            XCTAssertGreaterThanOrEqual(Int(response.header("x-ratelimit-reset") ?? "") ?? 0, 1)
        }
    }

    func testRouteLimitAcrossTwoWorkers() async throws {
        let proxy = try await startProxy(config(module: "throttle-route", key: "route"))
        try await assertLimited(proxy)
    }

    /// throttle-service keys by service by default: two routes of one service share a bucket.
    func testServiceLimitAcrossTwoWorkersAndTwoRoutes() async throws {
        let proxy = try await startProxy(config(module: "throttle-service", key: nil))
        try await assertLimited(proxy, paths: ["/api", "/second"])
    }

    /// throttle-route (the same script) keys by route by default: each route its own bucket.
    func testRouteLimitIsPerRoute() async throws {
        let proxy = try await startProxy(config(module: "throttle-route", key: nil))
        try await assertLimited(proxy, paths: ["/api"])
        try await assertLimited(proxy, paths: ["/second"])
    }

    func testLimitWithoutRequestsIsAConfigError() async throws {
        let yaml = standardConfig(inboundStages: """
            - name: throttle-route
              config: { period: 1 }
        """)
        do {
            _ = try await startProxy(yaml)
            XCTFail("requests is required")
        } catch {
            XCTAssertTrue("\(error)".contains("stage 'throttle-route' config: 'requests' is required"), "\(error)")
        }
    }
}
