import Foundation
import LuxyTestSupport
import XCTest

/// End to end: `luxy import envoyfilter` (the built binary) writes plugins and prints
/// chains; those chains, pasted under a listener and clusters, run in the proxy against
/// fake upstreams, and the scripts do what they did in Envoy.
final class ImportedPluginRunsTests: ResilienceTestCase {
    private var folder: LuxyCommandFolder!
    private var aclService: FakeUpstream!

    override func setUp() async throws {
        try await super.setUp()
        folder = try LuxyCommandFolder("luxy-imported")
        aclService = try await startUpstream("acl")
    }

    override func tearDown() async throws {
        folder?.remove()
        try await super.tearDown()
    }

    private var directory: String { folder.path }

    /// Imports an example into `directory/imported` and returns the printed chains.
    private func importExample(_ name: String) throws -> String {
        let result = try folder.luxy(
            ["import", "envoyfilter", ImportCommandTests.examples + "/" + name, "--out", directory + "/imported"])
        XCTAssertEqual(result.status, 0, result.all)
        return result.stdout
    }

    /// A listener and the clusters the scripts need, then the printed `chains:` as they are.
    private func config(chains: String) -> String {
        """
        modules_dir: {{modules}}
        plugins_dir: \(directory)/imported/plugins
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - match: { prefix: / }
                    cluster: backend
        clusters:
          - name: backend
            endpoints: ["\(upstream.address)"]
          - name: lua_cluster
            endpoints: ["\(aclService.address)"]
        \(chains)
        """
    }

    func testImportedReviewsLuaCallsItsClusterAndTagsTheResponse() async throws {
        let chains = try importExample("reviews-lua.yaml")
        let proxy = try await startProxy(config(chains: chains))
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/reviews/1")
        XCTAssertEqual(response.status, 200, response.description)
        XCTAssertEqual(response.header("x-reviews-lua"), "inspected", "envoy_on_response ran")
        let call = try onlyRequest(aclService).head
        XCTAssertEqual(call.method, .POST)
        XCTAssertEqual(call.uri, "/acl")
        XCTAssertEqual(call.headers["host"], ["internal.org.net"])
        XCTAssertEqual(aclService.received.first?.body, "authorize call")
        XCTAssertEqual(try onlyRequest(upstream).head.uri, "/reviews/1")
    }

    func testImportedFiltersRunInEnvoysOrder() async throws {
        let chains = try importExample("ordered-filters.yaml")
        let proxy = try await startProxy(config(chains: chains))
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/ordered")
        XCTAssertEqual(response.status, 200, response.description)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-order"],
                       ["first-touch", "auth-check", "audit", "late-tag"])
    }

    /// The printed `per_stage:` settings by the route or virtual host they are for.
    private func perStageSettings(in printed: String) -> [String: String] {
        var settings: [String: String] = [:]
        var target: String?
        for line in printed.split(separator: "\n").map(String.init) {
            if line.hasPrefix("#   per_stage: "), let current = target {
                settings[current] = String(line.dropFirst("#   ".count))
            } else if line.hasPrefix("# doc "), let range = line.range(of: ": ", options: .backwards) {
                // "# doc 1: spec…: route 'health' of virtual host 'inbound|http|8080':"
                target = String(line[range.upperBound...].dropLast())
            }
        }
        return settings
    }

    func testImportedLuaPerRouteRunsAsPerStage() async throws {
        let printed = try importExample("per-route.yaml")
        let settings = perStageSettings(in: printed)
        let vhost = "inbound|http|8080"
        func setting(_ target: String) throws -> String {
            try XCTUnwrap(settings[target], "no per_stage: printed for \(target) in\n\(printed)")
        }
        let hostSetting = try setting("every route of virtual host '\(vhost)'")
        let healthSetting = try setting("route 'health' of virtual host '\(vhost)'")
        let greetSetting = try setting("route 'greet' of virtual host '\(vhost)'")
        let legacySetting = try setting("route 'legacy' of virtual host '\(vhost)'")
        let routes = """
                virtual_hosts:
                  - domains: ["*"]
                    \(hostSetting)
                    routes:
                      - name: health
                        match: { prefix: /healthz }
                        cluster: backend
                        \(healthSetting)
                      - name: greet
                        match: { prefix: /greet }
                        cluster: backend
                        \(greetSetting)
                      - name: legacy
                        match: { prefix: /legacy }
                        cluster: backend
                        \(legacySetting)
                      - match: { prefix: / }
                        cluster: backend
            """
        let withRoutes = config(chains: printed).replacingOccurrences(of: """
                virtual_hosts:
                  - domains: ["*"]
                    routes:
                      - match: { prefix: / }
                        cluster: backend
            """, with: routes)
        XCTAssertNotEqual(withRoutes, config(chains: printed), "the routes were put in")
        let proxy = try await startProxy(withRoutes)
        let client = try await connect(proxy)
        for path in ["/healthz", "/greet", "/legacy", "/other"] {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 200, "\(path): \(response.description)")
        }
        let seen = upstream.received.map { request in
            ["x-team", "x-hello", "x-legacy"].map { "\($0)=\(request.head.headers[$0].joined(separator: ","))" }.joined(separator: " ")
        }
        XCTAssertEqual(seen, [
            "x-team= x-hello= x-legacy=",                // disabled on health
            "x-team= x-hello=world x-legacy=",           // source_codes hello.lua
            "x-team= x-hello= x-legacy=true",            // the route's own code
            "x-team=reviews x-hello= x-legacy=",         // the default script, the host's filter_context
        ])
    }
}
