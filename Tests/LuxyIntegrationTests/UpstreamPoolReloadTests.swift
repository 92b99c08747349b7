import Foundation
import LuxyTestSupport
import XCTest

/// Upstream pools belong to the loop and the cluster's settings, not to a generation: a
/// reload that leaves a cluster alone keeps its warm connections. One worker, so every
/// request goes through the one pool under test.
final class UpstreamPoolReloadTests: IntegrationTestCase {
    private func config(version: String, requestTimeout: String = "2s") -> String {
        standardConfig(inboundStages: """
                - name: version
                  priority: 10
                  config: { version: \(version) }
            """, workers: 1)
            .replacingOccurrences(of: "request_timeout: 2s", with: "request_timeout: \(requestTimeout)")
    }

    private let plugin = """
        function envoy_on_request(h) h:headers():replace("x-version", config.version) end
        """

    func testPluginEditKeepsWarmUpstreamConnections() async throws {
        let proxy = try await startProxy(config(version: "v1"), plugins: ["version": plugin])
        let client = try await connect(proxy)
        let first = try await client.request("GET", "/one")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(upstream.connectionsAccepted, 1)

        try proxy.writeConfig(config(version: "v2"))
        let outcome = try await proxy.runtime.reload()
        XCTAssertTrue(outcome.changed)

        let second = try await client.request("GET", "/two")
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-version"), "v2",
                       "the request ran on the new generation")
        XCTAssertEqual(upstream.connectionsAccepted, 1, "the new generation reused the warm upstream connection")
    }

    func testChangedClusterSettingsGetNewConnections() async throws {
        let proxy = try await startProxy(config(version: "v1"), plugins: ["version": plugin])
        let client = try await connect(proxy)
        let first = try await client.request("GET", "/one")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(upstream.connectionsAccepted, 1)

        try proxy.writeConfig(config(version: "v1", requestTimeout: "3s"))
        let outcome = try await proxy.runtime.reload()
        XCTAssertTrue(outcome.changed)

        let second = try await client.request("GET", "/two")
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(upstream.connectionsAccepted, 2, "a cluster whose settings changed gets a pool of its own")
        // The old generation's pool closes with it: its connection goes, nothing stays behind.
        try await eventually("the old generation's connection to close") { upstream.openConnections == 1 }
        let retired = await proxy.server.retiredGenerations()
        XCTAssertEqual(retired, 0)
    }
}
