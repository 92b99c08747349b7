import LuxyTestSupport
import XCTest

/// What a route or virtual host changes about its chain (Envoy's `LuaPerRoute`, under
/// `per_stage:`), and a route's own header edits and timeout, on a real proxy.
final class PerRouteStageTests: IntegrationTestCase {
    private let stages = """
        - name: tagger
          priority: 10
    """
    /// Tags requests with `x-tagged: main`, or with the route's filter context when it has one.
    private let plugins = [
        "tagger": """
            function envoy_on_request(h)
              local context = h:filterContext()
              h:headers():add("x-tagged", context.tag or "main")
            end
            """,
        "tagger-alt": """
            function envoy_on_request(h) h:headers():add("x-tagged", "alternate " .. config.flavour) end
            """,
    ]

    private func startProxy(routes: String) async throws -> TestProxy {
        let stages = self.stages + "\n      config: { flavour: vanilla }"
        return try await startProxy(standardConfig(inboundStages: stages, routes: routes, workers: 1), plugins: plugins)
    }

    private func tag(of path: String, on proxy: TestProxy) async throws -> String? {
        let client = try await connect(proxy)
        let response = try await client.request("GET", path)
        XCTAssertEqual(response.status, 200, "\(path): \(response)")
        return upstream.received.last { $0.head.uri == path }?.head.headers.first(name: "x-tagged")
    }

    func testDisabledScriptAndContextPerRoute() async throws {
        let proxy = try await startProxy(routes: """
                      - name: health
                        match: { path: /health }
                        cluster: backend
                        per_stage: { tagger: { disabled: true } }
                      - name: alternate
                        match: { prefix: /alt }
                        cluster: backend
                        per_stage: { tagger: { script: tagger-alt } }
                      - name: context
                        match: { prefix: /ctx }
                        cluster: backend
                        per_stage: { tagger: { config: { tag: from-route } } }
            """)
        let health = try await tag(of: "/health", on: proxy)
        XCTAssertNil(health, "the stage does not run on a route that disables it")
        let alternate = try await tag(of: "/alt/1", on: proxy)
        XCTAssertEqual(alternate, "alternate vanilla", "another script in the slot, with the stage's config")
        let context = try await tag(of: "/ctx", on: proxy)
        XCTAssertEqual(context, "from-route")
        let plain = try await tag(of: "/other", on: proxy)
        XCTAssertEqual(plain, "main", "routes without per_stage run the stage as it is")
    }

    func testRouteEntryReplacesItsVirtualHostsEntry() async throws {
        let yaml = standardConfig(inboundStages: stages, workers: 1)
            .replacingOccurrences(of: "        domains: [\"*\"]\n", with: """
                    domains: ["*"]
                    per_stage: { tagger: { disabled: true } }

            """)
            .replacingOccurrences(of: "          - name: echo\n", with: """
                      - name: enabled
                        match: { prefix: /enabled }
                        cluster: backend
                        per_stage: { tagger: { config: { tag: route } } }
                      - name: echo

            """)
        let proxy = try await startProxy(yaml, plugins: plugins)
        let disabled = try await tag(of: "/anything", on: proxy)
        XCTAssertNil(disabled, "the virtual host disables the stage for its routes")
        let enabled = try await tag(of: "/enabled", on: proxy)
        XCTAssertEqual(enabled, "route", "a route's own entry replaces the virtual host's")
    }

    func testMissingScriptOrStageIsAConfigErrorWithItsLine() async throws {
        for (entry, expected) in [
            ("{ tagger: { script: nowhere } }", "per_stage 'tagger': no nowhere.lua in"),
            ("{ ghost: { disabled: true } }", "per_stage names 'ghost', which is not a stage of chain 'inbound-http'"),
        ] {
            do {
                _ = try await startProxy(routes: """
                              - name: broken
                                match: { prefix: /b }
                                cluster: backend
                                per_stage: \(entry)
                    """)
                XCTFail("\(entry) must not load")
            } catch {
                let text = "\(error)"
                XCTAssertTrue(text.contains(expected), text)
                XCTAssertTrue(text.contains("luxy.yaml:16:"), "with file:line: \(text)")
            }
        }
    }

    func testRouteHeaderEditsApplyToUpstreamAndLocalReplies() async throws {
        let proxy = try await startProxy(routes: """
                      - name: edited
                        match: { prefix: /edited }
                        cluster: backend
                        request_headers_to_add: [{ name: x-route, value: "1" }, { name: x-tagged, value: route, append: true }]
                        request_headers_to_remove: [x-secret]
                        response_headers_to_add: [{ name: x-served-by, value: edited }]
                        response_headers_to_remove: [x-upstream]
                      - name: local
                        match: { prefix: /local }
                        direct_response: { status: 200, body: "local" }
                        response_headers_to_add: [{ name: x-served-by, value: local }]
            """)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/edited", headers: [("x-secret", "s")])
        XCTAssertEqual(response.header("x-served-by"), "edited")
        XCTAssertNil(response.header("x-upstream"), "removed from the upstream's response")
        let request = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(request.head.headers["x-route"], ["1"])
        XCTAssertEqual(request.head.headers["x-tagged"], ["main", "route"], "appended after the stage's")
        XCTAssertNil(request.head.headers.first(name: "x-secret"))
        let local = try await client.request("GET", "/local")
        XCTAssertEqual(local.body, "local")
        XCTAssertEqual(local.header("x-served-by"), "local", "local replies get the route's fields too")
    }

    func testRouteTimeoutReplacesTheClusters() async throws {
        let proxy = try await startProxy(routes: """
                      - name: quick
                        match: { prefix: /delay }
                        cluster: backend
                        timeout: 200ms
            """)
        let client = try await connect(proxy)
        // The cluster allows 2 s; the route 200 ms.
        let response = try await client.request("GET", "/delay/1500")
        XCTAssertEqual(response.status, 504, "\(response)")
    }
}
