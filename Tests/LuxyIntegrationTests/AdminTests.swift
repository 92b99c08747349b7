import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// The admin API on a real socket, over a real proxy's runtime.
final class AdminTests: IntegrationTestCase {
    private static let secretValue = "s3cr3t-token-value-93f1"

    private func adminConfig() -> String {
        """
        workers: 2
        modules_dir: {{modules}}
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - name: local
                domains: ["*"]
                routes:
                  - name: backend
                    match: { prefix: / }
                    cluster: backend
                    service: bookstore
          - name: outbound
            direction: outbound
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
            connect_timeout: 500ms
            request_timeout: 2s
        chains:
          inbound-http:
            - name: zeta
              priority: 50
            - name: alpha
              priority: 50
              config:
                token: !secret \(Self.secretValue)
                visible: plain-value
            - name: request-id
              priority: 200
            - name: low
              priority: -5
          inbound-tcp:
            - name: tcpstage
              priority: 1
          outbound-http:
            - name: outstage
              priority: 7
              services: [bookstore]
              fail_open: true
          outbound-tcp: []
        """
    }

    private var plugins: [String: String] {
        let noop = "function on_request(h) end\n"
        return ["zeta": noop, "alpha": noop, "low": noop, "tcpstage": "-- tcp\n", "outstage": noop]
    }

    private func startAdmin(_ proxy: TestProxy) async throws -> TestHTTPConnection {
        try await connect(startAdmin(on: proxy))
    }

    private func json(_ response: TestHTTPResponse, file: StaticString = #filePath, line: UInt = #line) throws
        -> [String: Any] {
        XCTAssertEqual(response.header("content-type"), "application/json", file: file, line: line)
        let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(response.body)", file: file, line: line)
    }

    func testReadyIs200() async throws {
        let proxy = try await startProxy(adminConfig(), plugins: plugins)
        let admin = try await startAdmin(proxy)
        let response = try await admin.request("GET", "/ready")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, "ready\n")
        // Keep-alive: the same connection answers again, and unknown paths are 404.
        let unknown = try await admin.request("GET", "/nope")
        XCTAssertEqual(unknown.status, 404)
    }

    func testConfigDumpHasListenersClustersAndChainsInRunOrder() async throws {
        let proxy = try await startProxy(adminConfig(), plugins: plugins)
        let admin = try await startAdmin(proxy)
        let response = try await admin.request("GET", "/config_dump")
        XCTAssertEqual(response.status, 200)
        let dump = try json(response)

        XCTAssertEqual(dump["generation"] as? Int, 1)
        XCTAssertTrue(dump["last_reload_error"] is NSNull)
        XCTAssertEqual(dump["config_file"] as? String, proxy.directory + "/luxy.yaml")

        let listeners = try XCTUnwrap(dump["listeners"] as? [[String: Any]])
        XCTAssertEqual(listeners.compactMap { $0["name"] as? String }, ["inbound", "outbound"])
        XCTAssertEqual(listeners.first?["chain"] as? String, "inbound-http")
        XCTAssertEqual(listeners.last?["chain"] as? String, "outbound-http")
        XCTAssertEqual(listeners.first?["address"] as? String, "127.0.0.1:0")
        XCTAssertEqual(listeners.first?["original_destination"] as? Bool, false)
        let vhosts = try XCTUnwrap(listeners.first?["virtual_hosts"] as? [[String: Any]])
        let routes = try XCTUnwrap(vhosts.first?["routes"] as? [[String: Any]])
        XCTAssertEqual(routes.first?["cluster"] as? String, "backend")
        XCTAssertEqual(routes.first?["service"] as? String, "bookstore")

        let clusters = try XCTUnwrap(dump["clusters"] as? [[String: Any]])
        XCTAssertEqual(clusters.count, 1)
        XCTAssertEqual(clusters.first?["name"] as? String, "backend")
        XCTAssertEqual(clusters.first?["type"] as? String, "static")
        XCTAssertEqual(clusters.first?["endpoints"] as? [String], [upstream.address])
        XCTAssertEqual(clusters.first?["connect_timeout_ms"] as? Int, 500)
        XCTAssertEqual(clusters.first?["request_timeout_ms"] as? Int, 2000)

        let chains = try XCTUnwrap(dump["chains"] as? [String: Any])
        XCTAssertEqual(Set(chains.keys), ["inbound-http", "inbound-tcp", "outbound-http", "outbound-tcp"])
        // JSONSerialization loses key order; the raw text keeps it.
        let chainsText = try XCTUnwrap(response.body.range(of: "\"chains\":").map { response.body[$0.upperBound...] })
        let order = ["\"inbound-http\":", "\"inbound-tcp\":", "\"outbound-http\":", "\"outbound-tcp\":"]
            .map { chainsText.range(of: $0)?.lowerBound }
        XCTAssertFalse(order.contains(nil))
        XCTAssertEqual(order.compactMap { $0 }, order.compactMap { $0 }.sorted(), "chains in their fixed order")

        func stages(_ chain: String) throws -> [[String: Any]] {
            try XCTUnwrap(chains[chain] as? [[String: Any]], chain)
        }
        let inbound = try stages("inbound-http")
        XCTAssertEqual(inbound.compactMap { $0["name"] as? String }, ["request-id", "alpha", "zeta", "low"],
                       "priority descending, ties by name")
        XCTAssertEqual(inbound.compactMap { $0["priority"] as? Int }, [200, 50, 50, -5])
        XCTAssertEqual(inbound.compactMap { $0["file"] as? String },
                       ["modules/request-id.lua", "plugins/alpha.lua", "plugins/zeta.lua", "plugins/low.lua"])
        XCTAssertEqual(try stages("inbound-tcp").compactMap { $0["file"] as? String }, ["plugins/tcpstage.lua"])
        let outbound = try stages("outbound-http")
        XCTAssertEqual(outbound.compactMap { $0["name"] as? String }, ["outstage"])
        XCTAssertEqual(outbound.first?["priority"] as? Int, 7)
        XCTAssertEqual(outbound.first?["services"] as? [String], ["bookstore"])
        XCTAssertEqual(outbound.first?["fail_open"] as? Bool, true)
        XCTAssertTrue(try stages("outbound-tcp").isEmpty)
    }

    func testConfigDumpRedactsSecrets() async throws {
        let proxy = try await startProxy(adminConfig(), plugins: plugins)
        let admin = try await startAdmin(proxy)
        let response = try await admin.request("GET", "/config_dump")
        XCTAssertEqual(response.status, 200)
        XCTAssertFalse(response.body.contains(Self.secretValue), "a !secret value leaked into the dump")
        let dump = try json(response)
        let chains = try XCTUnwrap(dump["chains"] as? [String: Any])
        let inbound = try XCTUnwrap(chains["inbound-http"] as? [[String: Any]])
        let alpha = try XCTUnwrap(inbound.first { $0["name"] as? String == "alpha" })
        let config = try XCTUnwrap(alpha["config"] as? [String: Any])
        XCTAssertEqual(config["token"] as? String, "[redacted]")
        XCTAssertEqual(config["visible"] as? String, "plain-value", "only tagged values are redacted")
    }

    func testStatsHasCounters() async throws {
        let proxy = try await startProxy(adminConfig(), plugins: plugins)
        let client = try await connect(proxy)
        for _ in 0..<3 {
            let response = try await client.request("GET", "/books")
            XCTAssertEqual(response.status, 200)
        }
        let admin = try await startAdmin(proxy)
        let response = try await admin.request("GET", "/stats")
        XCTAssertEqual(response.status, 200)
        let stats = try json(response)
        XCTAssertEqual(stats["downstream_requests"] as? Int, 3, response.body)
        XCTAssertEqual(stats["live_generations"] as? Int, 2, "one generation on each of the two loops")
        XCTAssertEqual(stats["generations_in_memory"] as? Int, 2, response.body)
        XCTAssertEqual(stats["open_stage_runtimes"] as? Int, 2, "one Lua VM on each of the two loops")
        XCTAssertEqual((stats["content_hash"] as? String)?.count, 64, "SHA-256 in hex")
        XCTAssertTrue(stats.filter { $0.key != "content_hash" }.values.allSatisfy { $0 is Int }, response.body)
    }

    func testAdminClosesWhenAskedTo() async throws {
        let proxy = try await startProxy(adminConfig(), plugins: plugins)
        let admin = try await startAdmin(proxy)
        let response = try await admin.request("GET", "/ready", headers: [("connection", "close")])
        XCTAssertEqual(response.status, 200)
        let closed = await admin.waitForClose()
        XCTAssertTrue(closed)
    }
}
