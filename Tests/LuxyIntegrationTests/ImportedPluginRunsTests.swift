import Foundation
import LuxyTestSupport
import XCTest

/// End to end: `luxy import envoyfilter` (the built binary) writes plugins and prints
/// chains; those chains, pasted under a listener and clusters, run in the proxy against
/// fake upstreams, and the scripts do what they did in Envoy.
final class ImportedPluginRunsTests: IntegrationTestCase {
    private var directory: String!
    private var aclService: FakeUpstream!

    override func setUp() async throws {
        try await super.setUp()
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-imported-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        aclService = try await FakeUpstream.start(name: "acl", group: group)
    }

    override func tearDown() async throws {
        await aclService?.stop()
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
        try await super.tearDown()
    }

    /// Imports an example into `directory/imported` and returns the printed chains.
    private func importExample(_ name: String) throws -> String {
        let result = try LuxyCommandRunner(workingDirectory: directory).run(
            ["import", "envoyfilter", ImportCommandTests.examples + "/" + name, "--out", directory + "/imported"])
        XCTAssertEqual(result.status, 0, result.all)
        return result.stdout
    }

    /// A listener and the clusters the scripts need, then the printed `chains:` as they are.
    private func config(chains: String) -> String {
        """
        modules_dir: {{modules}}
        plugins_dir: \(directory!)/imported/plugins
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
}
