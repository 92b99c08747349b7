import Foundation
import LuxyAdmin
import LuxyTestSupport
import XCTest

/// Envoy's Lua counters, `streamInfo()` addresses under `xff_num_trusted_hops`, and
/// `verifySignature`, on a real proxy with real sockets and a real upstream.
final class LuaEnvoyAPITests: IntegrationTestCase {
    private var admin: AdminServer?
    private var keys: [TestSigningKey] = []

    override func tearDown() async throws {
        await admin?.close()
        admin = nil
        for key in keys { key.remove() }
        keys = []
        try await super.tearDown()
    }

    private func adminConnection(_ proxy: TestProxy) async throws -> TestHTTPConnection {
        let admin = try await AdminServer.start(host: "127.0.0.1", port: 0, group: group, runtime: proxy.runtime,
                                                logger: proxy.logs.logger)
        self.admin = admin
        return try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port), group: group)
    }

    // MARK: Counters

    func testCountersPerStageInStatsAndMetrics() async throws {
        let both = LuaPlugin("both", priority: 30, """
            function envoy_on_request(h) end
            function envoy_on_response(h) end
            """)
        let auth = LuaPlugin("auth", priority: 20, options: ["stat_prefix: edge.auth", "fail_open: true"], """
            function envoy_on_request(h)
              local path = h:headers():get(':path')
              if path == '/error' then error('refused') end
              if path == '/spin' then while true do end end
            end
            """)
        // Defines no phase the chain runs: it never executes, so it counts nothing.
        let responseOnly = LuaPlugin("late", priority: 10, "function envoy_on_response(h) end")
        let idle = LuaPlugin("idle", priority: 5, "-- nothing to run\n")
        let off = LuaPlugin("off", priority: 1, options: ["disabled: true"], "function envoy_on_request(h) end")
        let proxy = try await startLuaProxy([both, auth, responseOnly, idle, off],
                                            limits: "limits:\n  lua_instruction_budget: 200000")
        let client = try await connect(proxy)
        for path in ["/a", "/b", "/error", "/spin", "/c"] {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 200, "fail_open lets \(path) through")
        }

        let admin = try await adminConnection(proxy)
        let statsResponse = try await admin.request("GET", "/stats")
        let stats = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(statsResponse.body.utf8)) as? [String: Any])
        XCTAssertEqual(stats["both.lua.executions"] as? Int, 10, "request and response phase of 5 requests")
        XCTAssertEqual(stats["both.lua.errors"] as? Int, 0)
        XCTAssertEqual(stats["edge.auth.lua.executions"] as? Int, 5, statsResponse.body)
        XCTAssertEqual(stats["edge.auth.lua.errors"] as? Int, 2, "a Lua error and an exceeded budget")
        XCTAssertNil(stats["auth.lua.executions"], "stat_prefix replaces the stage name")
        XCTAssertEqual(stats["late.lua.executions"] as? Int, 5, "its response phase only")
        XCTAssertEqual(stats["idle.lua.executions"] as? Int, 0, "no phase defined: registered, never run")
        XCTAssertNil(stats["off.lua.executions"], "a disabled stage is not built")

        let metrics = try await admin.request("GET", "/metrics")
        XCTAssertTrue(metrics.body.contains("luxy_edge_auth_lua_executions_total 5"), metrics.body)
        XCTAssertTrue(metrics.body.contains("luxy_edge_auth_lua_errors_total 2"), metrics.body)
        XCTAssertTrue(metrics.body.contains("luxy_both_lua_executions_total 10"), metrics.body)
        await admin.close()
    }

    func testCountersKeepCountingAcrossAReload() async throws {
        let stage = LuaPlugin("keep", "function envoy_on_request(h) end")
        let proxy = try await startLuaProxy([stage], workers: 1)
        let client = try await connect(proxy)
        _ = try await client.request("GET", "/one")
        try "function envoy_on_request(h) end -- changed\n"
            .write(toFile: proxy.directory + "/plugins/keep.lua", atomically: true, encoding: .utf8)
        let outcome = try await proxy.runtime.reload()
        XCTAssertTrue(outcome.changed, "a new generation, with new stages")
        let again = try await connect(proxy)
        _ = try await again.request("GET", "/two")
        let counters = await proxy.runtime.server.counters()
        XCTAssertEqual(counters["keep.lua.executions"], 2)
    }

    // MARK: streamInfo()

    /// Answers with what streamInfo() says, `|`-separated.
    private let streamInfoScript = LuaPlugin("info", """
        function envoy_on_request(h)
          local si = h:streamInfo()
          h:respond({[':status'] = '200'}, table.concat({
            si:downstreamRemoteAddress(), si:downstreamDirectRemoteAddress(),
            si:downstreamLocalAddress(), si:downstreamDirectLocalAddress(),
            si:routeName(), si:virtualClusterName(), si:protocol(), si:requestedServerName()}, '|'))
        end
        """)

    private func startInfoProxy(trustedHops: Int?, before: [LuaPlugin] = []) async throws -> TestProxy {
        var yaml = standardConfig(inboundStages: stagesYAML(before + [streamInfoScript]))
        if let trustedHops {
            yaml = yaml.replacingOccurrences(of: "    address: 127.0.0.1:0\n",
                                             with: "    address: 127.0.0.1:0\n    xff_num_trusted_hops: \(trustedHops)\n")
        }
        var plugins = ["info": streamInfoScript.source]
        for plugin in before { plugins[plugin.name] = plugin.source }
        return try await startProxy(yaml, plugins: plugins)
    }

    private func info(_ client: TestHTTPConnection, xff: [String]) async throws -> [String] {
        let response = try await client.request("GET", "/books", headers: xff.map { ("x-forwarded-for", $0) })
        XCTAssertEqual(response.status, 200)
        return response.body.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
    }

    func testStreamInfoAddressesWithoutTrustedHops() async throws {
        let proxy = try await startInfoProxy(trustedHops: nil)
        let port = await proxy.port("inbound")
        let fields = try await info(try await connect(proxy), xff: ["203.0.113.9"])
        XCTAssertEqual(fields.count, 8)
        XCTAssertTrue(fields[0].hasPrefix("127.0.0.1:"), "no trusted hop: the peer, whatever XFF says")
        XCTAssertEqual(fields[0], fields[1])
        XCTAssertEqual(fields[2], "127.0.0.1:\(port)")
        XCTAssertEqual(fields[3], "127.0.0.1:\(port)")
        XCTAssertEqual(fields[4], "backend")
        XCTAssertEqual(fields[5], "")
        XCTAssertEqual(fields[6], "HTTP/1.1")
        XCTAssertEqual(fields[7], "")
    }

    func testStreamInfoRemoteAddressHonoursTrustedHops() async throws {
        let proxy = try await startInfoProxy(trustedHops: 2)
        let client = try await connect(proxy)
        // Two proxies in front appended the last two entries: the client is the second from the right.
        var fields = try await info(client, xff: ["198.51.100.1, 203.0.113.9,10.0.0.1"])
        XCTAssertEqual(fields[0], "203.0.113.9:0")
        XCTAssertTrue(fields[1].hasPrefix("127.0.0.1:"), "the direct peer stays the connection's")
        // Repeated header lines read as one list, as Envoy coalesces them.
        fields = try await info(client, xff: ["198.51.100.1", "2001:db8::7, 10.0.0.1"])
        XCTAssertEqual(fields[0], "[2001:db8::7]:0")
        // Fewer entries than trusted hops, or one that is not an address: the peer.
        fields = try await info(client, xff: ["10.0.0.1"])
        XCTAssertEqual(fields[0], fields[1])
        fields = try await info(client, xff: ["not-an-ip, 10.0.0.1"])
        XCTAssertEqual(fields[0], fields[1])
        fields = try await info(client, xff: [])
        XCTAssertEqual(fields[0], fields[1])
    }

    func testOneTrustedHopTakesTheLastEntry() async throws {
        let proxy = try await startInfoProxy(trustedHops: 1)
        let fields = try await info(try await connect(proxy), xff: ["198.51.100.1, 203.0.113.9"])
        XCTAssertEqual(fields[0], "203.0.113.9:0")
    }

    /// The client is read from the field as it arrived, as Envoy's connection manager reads
    /// it before its filters: a stage that rewrites the field changes what goes upstream only.
    func testAStageRewritingTheFieldDoesNotChangeTheClient() async throws {
        let rewrite = LuaPlugin("rewrite", priority: 200, """
            function envoy_on_request(h) h:headers():replace('x-forwarded-for', '10.9.9.9, 10.0.0.1') end
            """)
        let proxy = try await startInfoProxy(trustedHops: 2, before: [rewrite])
        let fields = try await info(try await connect(proxy), xff: ["198.51.100.1, 203.0.113.9, 10.0.0.1"])
        XCTAssertEqual(fields[0], "203.0.113.9:0")
    }

    // MARK: verifySignature

    func testVerifySignatureGuardsARequest() async throws {
        let key = try TestSigningKey(.ecdsa(curve: "P-256"))
        keys.append(key)
        let stage = LuaPlugin("signed", options: ["config:", "  public_key: \(TestSigningKey.hex(key.publicKeyDER))"], """
            local function unhex(s) return (s:gsub('..', function(c) return string.char(tonumber(c, 16)) end)) end
            local der = unhex(config.public_key)
            function envoy_on_request(h)
              local signature = unhex(h:headers():get('x-signature') or '')
              local body = h:body(true):getBytes(0, h:body(true):length())
              local pubkey = h:importPublicKey(der, #der):get()
              local ok, err = h:verifySignature('sha256', pubkey, signature, #signature, body, #body)
              if not ok then h:respond({[':status'] = '403'}, err) end
            end
            """)
        let proxy = try await startLuaProxy([stage])
        let client = try await connect(proxy)
        let body = "{\"amount\": 100}"
        let signature = TestSigningKey.hex(try key.sign(Array(body.utf8), hash: "sha256"))

        let good = try await client.request("POST", "/pay", headers: [("x-signature", signature)], body: body)
        XCTAssertEqual(good.status, 200)
        XCTAssertEqual(try onlyRequest(upstream).body, body)

        let tampered = try await client.request("POST", "/pay", headers: [("x-signature", signature)],
                                                body: "{\"amount\": 900}")
        XCTAssertEqual(tampered.status, 403)
        XCTAssertEqual(tampered.body, "Failed to verify digest. Error code: 0")
        XCTAssertEqual(upstream.received.count, 1, "the tampered request never reached the upstream")
    }
}
