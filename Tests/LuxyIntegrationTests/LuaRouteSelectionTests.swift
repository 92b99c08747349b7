import LuxyTestSupport
import XCTest

/// Envoy's `clear_route_cache`: a script that changes what routing reads (`:path`,
/// `:authority`, a header a route matches on) has the route chosen again before the request
/// leaves; `clear_route_cache: false` on the stage keeps the first route.
final class LuaRouteSelectionTests: IntegrationTestCase {
    private let routes = """
              - name: blue
                match: { prefix: /, headers: [{ name: x-tenant, exact: blue }] }
                direct_response: { status: 200, body: "blue" }
              - name: new
                match: { prefix: /new }
                direct_response: { status: 200, body: "new" }
              - name: other-host
                match: { prefix: /host }
                direct_response: { status: 200, body: "host route" }
    """

    private func startProxy(script: String, clearRouteCache: Bool? = nil) async throws -> TestProxy {
        let setting = clearRouteCache.map { "\n      clear_route_cache: \($0)" } ?? ""
        let stages = """
            - name: rewriter
              priority: 10\(setting)
        """
        return try await startProxy(standardConfig(inboundStages: stages, routes: routes),
                                    plugins: ["rewriter": script])
    }

    func testChangingThePathChoosesTheRouteAgain() async throws {
        let proxy = try await startProxy(script: """
            function envoy_on_request(h) h:headers():replace(":path", "/new/place") end
            """)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/old")
        XCTAssertEqual(response.body, "new")
        XCTAssertTrue(upstream.received.isEmpty, "the first route (the backend) is not used")
    }

    func testAddingAHeaderARouteMatchesOnChoosesTheRouteAgain() async throws {
        let proxy = try await startProxy(script: """
            function envoy_on_request(h) h:headers():add("x-tenant", "blue") end
            """)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/anything")
        XCTAssertEqual(response.body, "blue")
    }

    func testChangingAHeaderNoRouteReadsKeepsTheRoute() async throws {
        let proxy = try await startProxy(script: """
            function envoy_on_request(h) h:headers():add("x-other", "1") end
            """)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/anything")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-other"), "1")
    }

    func testClearRouteCacheFalseKeepsTheFirstRoute() async throws {
        let proxy = try await startProxy(script: """
            function envoy_on_request(h) h:headers():replace(":path", "/new/place") end
            """, clearRouteCache: false)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/old")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(upstream.received.last?.head.uri, "/new/place",
                       "the path changed, the route (the backend) did not")
    }

    func testExplicitClearRouteCacheStillWorksWhenTheSettingIsOff() async throws {
        let proxy = try await startProxy(script: """
            function envoy_on_request(h)
              h:headers():replace(":path", "/new/place")
              h:clearRouteCache()
            end
            """, clearRouteCache: false)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/old")
        XCTAssertEqual(response.body, "new")
    }
}
