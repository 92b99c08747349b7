import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// Envoy's Lua filter behaviour, script by script: each file in `EnvoyConformance/` is an
/// Envoy-style filter (`envoy_on_request` / `envoy_on_response`) that says which Envoy
/// behaviour it checks; it runs as the only stage of a real proxy, a real client sends its
/// request over a socket, and what the client, the upstream, the side cluster, the log or
/// `/stats` saw is compared with what Envoy gives. See `EnvoyConformanceScript` for the
/// `--@` lines.
final class EnvoyConformanceTests: ResilienceTestCase {
    private var side: FakeUpstream!

    override func setUp() async throws {
        try await super.setUp()
        side = try await startUpstream("side")
    }

    /// Routes some scripts need, before the standard `/echo` and `/` routes.
    private var routes: String {
        """
                  - name: ctx
                    match: { prefix: /ctx }
                    cluster: backend
                    metadata: {team: books, tier: 2}
                    per_stage:
                      conformance: {config: {audience: api, retries: 3}}
                  - name: off
                    match: { prefix: /off }
                    cluster: backend
                    per_stage:
                      conformance: {disabled: true}
                  - name: rerouted
                    match: { prefix: /rerouted }
                    cluster: side
                  - name: by-header
                    match:
                      prefix: /
                      headers: [{name: x-route-to, exact: side}]
                    cluster: side
        """
    }

    /// `side` answers httpCall and re-routed requests; `dead` refuses connections.
    private var clusters: String {
        """
          - name: side
            endpoints: ["\(side.address)"]
          - name: dead
            endpoints: ["127.0.0.1:1"]
            connect_timeout: 200ms
        """
    }

    private func runScripts(prefix: String) async throws {
        let scripts = try EnvoyConformanceScript.all().filter { $0.file.hasPrefix(prefix) }
        XCTAssertFalse(scripts.isEmpty, "no EnvoyConformance/\(prefix)*.lua")
        for script in scripts {
            try await run(script)
        }
    }

    private func run(_ script: EnvoyConformanceScript) async throws {
        let file = script.file
        let upstreamBefore = upstream.received.count
        let sideBefore = side.received.count
        var plugins = [LuaPlugin("conformance", options: script.stageOptions, script.source)]
        if let outer = script.outerStage { plugins.append(LuaPlugin("outer", priority: 200, outer)) }
        let proxy = try await startLuaProxy(plugins, routes: routes, cluster: clusters, workers: 1)
        let client = try await connect(proxy)
        let response: TestHTTPResponse
        if let raw = script.rawRequest {
            try await client.send(raw)
            response = try await client.readResponse()
        } else {
            response = try await client.request(script.method, script.path, headers: script.requestHeaders,
                                                body: script.requestBody)
        }
        let context = "\(file): \(response.description)"

        if let status = script.status { XCTAssertEqual(response.status, status, context) }
        if let reason = script.reasonPhrase { XCTAssertEqual(response.reasonPhrase, reason, "\(file): reason phrase") }
        for expected in script.responseHeaders {
            XCTAssertEqual(response.header(expected.name) ?? "", expected.value, "\(file): response header \(expected.name)")
        }
        if let body = script.responseBody { XCTAssertEqual(response.body, body, context) }
        for text in script.responseBodyContains {
            XCTAssertTrue(response.body.contains(text), "\(file): response body lacks \(text): \(response.body)")
        }

        let reached = Array(upstream.received.dropFirst(upstreamBefore))
        if let count = script.upstreamRequests { XCTAssertEqual(reached.count, count, "\(file): requests upstream") }
        for expected in script.upstreamHeaders {
            let values = reached.last?.head.headers[expected.name] ?? []
            XCTAssertEqual(values.joined(separator: ","), expected.value, "\(file): upstream header \(expected.name)")
        }
        if let body = script.upstreamBody { XCTAssertEqual(reached.last?.body, body, "\(file): upstream body") }

        if let count = script.sideRequests {
            // An asynchronous httpCall may reach the side cluster after the response.
            let arrived = await pollLuaEffect { side.received.count - sideBefore >= count }
            XCTAssertTrue(arrived, "\(file): side requests")
            XCTAssertEqual(side.received.count - sideBefore, count, "\(file): side requests")
        }
        for expected in script.sideHeaders {
            let values = side.received.dropFirst(sideBefore).first?.head.headers[expected.name] ?? []
            XCTAssertEqual(values.joined(separator: ","), expected.value, "\(file): side header \(expected.name)")
        }
        if let body = script.sideBody {
            XCTAssertEqual(side.received.dropFirst(sideBefore).first?.body, body, "\(file): side body")
        }
        for text in script.logs {
            XCTAssertTrue(proxy.logs.contains(text), "\(file): no log line with \(text) in \(proxy.logs.all.map(\.line))")
        }
        if !script.stats.isEmpty { try await checkStats(script, proxy) }
    }

    private func checkStats(_ script: EnvoyConformanceScript, _ proxy: TestProxy) async throws {
        let admin = try await AdminServer.start(host: "127.0.0.1", port: 0, group: group, runtime: proxy.runtime,
                                                logger: proxy.logs.logger)
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port), group: group)
        let response = try await connection.request("GET", "/stats")
        let stats = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any])
        for expected in script.stats {
            XCTAssertEqual((stats[expected.name] as? Int).map(String.init), expected.value, "\(script.file): \(expected.name)")
        }
        await connection.close()
        await admin.close()
    }

    func testEveryScriptStatesTheEnvoyBehaviourItChecks() throws {
        let scripts = try EnvoyConformanceScript.all()
        XCTAssertGreaterThanOrEqual(scripts.count, 30)
        for script in scripts {
            XCTAssertTrue(script.behaviour.contains("Envoy:"), script.file)
            XCTAssertTrue(script.source.contains("function envoy_on_"), "\(script.file) is an Envoy-style filter")
        }
    }

    func testHeaders() async throws { try await runScripts(prefix: "headers-") }
    func testBodies() async throws { try await runScripts(prefix: "body-") }
    func testStreamInfoAndMetadata() async throws { try await runScripts(prefix: "info-") }
    func testHTTPCall() async throws { try await runScripts(prefix: "httpcall-") }
    func testRespond() async throws { try await runScripts(prefix: "respond-") }
    func testRouting() async throws { try await runScripts(prefix: "route-") }
    func testHelpers() async throws { try await runScripts(prefix: "helper-") }
    func testErrors() async throws { try await runScripts(prefix: "error-") }
}
