import LuxyTestSupport
import NIOCore
import NIOHTTP1
import XCTest

/// HTTP/2 end to end with real clients: h2c next to HTTP/1.1 on one port, Lua over h2, gRPC
/// trailers through an h2 upstream, upstream multiplexing, and an h2load run.
final class HTTP2Tests: IntegrationTestCase {
    private var h2Upstream: FakeHTTP2Upstream!
    private var clients: [TestHTTP2Client] = []

    override func setUp() async throws {
        try await super.setUp()
        h2Upstream = try await FakeHTTP2Upstream.start(name: "h2-backend", group: group)
    }

    override func tearDown() async throws {
        for client in clients { await client.close() }
        await h2Upstream.stop()
        try await super.tearDown()
    }

    /// `standardConfig` plus a `protocol: http2` cluster `h2` (the fake h2 upstream), routed
    /// from `/h2/` and from gRPC paths (`/grpc.`).
    private func http2Config(inboundStages: String = "", listenerHTTP2: String? = nil) -> String {
        let routes = """
                  - name: grpc
                    match: { prefix: /grpc. }
                    cluster: h2
                  - name: h2
                    match: { prefix: /h2/ }
                    cluster: h2
        """
        let cluster = """
          - name: h2
            protocol: http2
            endpoints: ["\(h2Upstream.address)"]
            connect_timeout: 500ms
            request_timeout: 5s
        """
        var yaml = standardConfig(inboundStages: inboundStages, routes: routes, cluster: cluster)
        if let listenerHTTP2 {
            yaml = yaml.replacingOccurrences(of: "    address: 127.0.0.1:0\n",
                                             with: "    address: 127.0.0.1:0\n    http2: \(listenerHTTP2)\n")
        }
        return yaml
    }

    private func h2Client(_ proxy: TestProxy) async throws -> TestHTTP2Client {
        let client = try await TestHTTP2Client.connect(port: await proxy.port("inbound"), group: group)
        clients.append(client)
        return client
    }

    func testCurlPriorKnowledgeAndHTTP11ShareThePort() async throws {
        let curl = try ExternalTool.find("curl")
        let proxy = try await startProxy(http2Config())
        let port = await proxy.port("inbound")
        let url = "http://127.0.0.1:\(port)/books?id=7"
        let h2 = try await curl.run(["-sS", "--max-time", "10", "--http2-prior-knowledge",
                                     "-w", "\n%{http_version} %{http_code}", url])
        XCTAssertEqual(h2.status, 0, h2.stderr)
        XCTAssertTrue(h2.stdout.hasSuffix("\n2 200"), h2.stdout)
        XCTAssertTrue(h2.stdout.hasPrefix("GET /books?id=7\n"), h2.stdout)
        let h1 = try await curl.run(["-sS", "--max-time", "10", "--http1.1", "-w", "\n%{http_version} %{http_code}", url])
        XCTAssertEqual(h1.status, 0, h1.stderr)
        XCTAssertTrue(h1.stdout.hasSuffix("\n1.1 200"), h1.stdout)
        XCTAssertEqual(upstream.received.count, 2)
        XCTAssertEqual(upstream.received.first?.head.headers.first(name: "host"), "127.0.0.1:\(port)",
                       "the HTTP/2 :authority reaches an HTTP/1.1 upstream as Host")
        // And the raw HTTP/1.1 client keeps working on the same listener.
        let raw = try await connect(proxy)
        let response = try await raw.request("POST", "/orders", body: "x")
        XCTAssertEqual(response.status, 200)
    }

    func testLocalRepliesAndNoRouteOverHTTP2() async throws {
        let routes = """
                  - name: hello
                    match: { path: /hello }
                    direct_response: { status: 201, body: "hi" }
        """
        let proxy = try await startProxy(standardConfig(routes: routes))
        let client = try await h2Client(proxy)
        let hello = try await client.request("GET", "/hello")
        XCTAssertEqual(hello.status, 201)
        XCTAssertEqual(hello.body, "hi")
        let echo = try await client.request("PUT", "/echo/x", headers: [("x-a", "1")], body: "data")
        XCTAssertEqual(echo.status, 200)
        XCTAssertTrue(echo.body.contains("\"body\":\"data\""), echo.body)
        XCTAssertNil(echo.header("connection"), "no HTTP/1 connection fields on h2")
        // Many streams on the one connection, one after the other and side by side.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<10 {
                group.addTask { try await client.request("GET", "/books/\(index)").status }
            }
            for try await status in group { XCTAssertEqual(status, 200) }
        }
    }

    func testLuaSeesHTTP2() async throws {
        let plugin = LuaPlugin("proto", """
            function envoy_on_request(h)
              h:headers():add("x-seen-protocol", h:streamInfo():protocol())
              h:headers():add("x-seen-h2", tostring(h:isHTTP2()))
              h:headers():add("x-seen-authority", h:headers():get(":authority") or "none")
            end
            function envoy_on_response(h)
              h:headers():add("x-response-protocol", h:streamInfo():protocol())
            end
            """)
        let proxy = try await startLuaProxy([plugin])
        let client = try await h2Client(proxy)
        let response = try await client.request("GET", "/lua", authority: "books.example:8443")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("x-response-protocol"), "HTTP/2")
        let seen = try XCTUnwrap(upstream.received.last)
        XCTAssertEqual(seen.head.headers.first(name: "x-seen-protocol"), "HTTP/2")
        XCTAssertEqual(seen.head.headers.first(name: "x-seen-h2"), "true")
        XCTAssertEqual(seen.head.headers.first(name: "x-seen-authority"), "books.example:8443")
        // The same plugin over HTTP/1.1.
        let raw = try await connect(proxy)
        _ = try await raw.request("GET", "/lua")
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-seen-protocol"), "HTTP/1.1")
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-seen-h2"), "false")
    }

    /// The streams of one connection share its addresses, read once: every stream still gets
    /// `x-forwarded-for` and the addresses Lua reads, whichever stream came first.
    func testEveryStreamOfAConnectionCarriesTheClientsAddress() async throws {
        let plugin = LuaPlugin("peer", """
            function envoy_on_request(h)
              local info = h:streamInfo()
              h:headers():add("x-seen-remote", info:downstreamRemoteAddress())
              h:headers():add("x-seen-local", info:downstreamLocalAddress())
            end
            """)
        let proxy = try await startLuaProxy([plugin])
        let port = await proxy.port("inbound")
        let client = try await h2Client(proxy)
        for path in ["/first", "/second", "/third"] {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 200)
            let seen = try XCTUnwrap(upstream.received.last)
            XCTAssertEqual(seen.head.uri, path)
            XCTAssertEqual(seen.head.headers.first(name: "x-forwarded-for"), "127.0.0.1", path)
            XCTAssertEqual(seen.head.headers.first(name: "x-seen-local"), "127.0.0.1:\(port)", path)
            let remote = try XCTUnwrap(seen.head.headers.first(name: "x-seen-remote"), path)
            XCTAssertTrue(remote.hasPrefix("127.0.0.1:"), "\(path): \(remote)")
        }
    }

    func testGRPCTrailersPassThroughAnHTTP2Upstream() async throws {
        let proxy = try await startProxy(http2Config())
        let client = try await h2Client(proxy)
        let message = "\u{0}\u{0}\u{0}\u{0}\u{5}hello"
        let response = try await client.request(
            "POST", "/grpc.Echo/Say",
            headers: [("content-type", "application/grpc"), ("te", "trailers")], body: message,
            trailers: [("x-client-trailer", "1")])
        XCTAssertEqual(response.status, 200, "\(response)")
        XCTAssertEqual(response.header("content-type"), "application/grpc")
        XCTAssertEqual(response.body, message)
        XCTAssertEqual(response.trailers?.first(name: "grpc-status"), "0", "\(response)")
        XCTAssertEqual(response.trailers?.first(name: "grpc-message"), "OK")
        XCTAssertEqual(response.trailers?.first(name: "x-request-trailers"), "1", "request trailers reach the upstream")
        let seen = try XCTUnwrap(h2Upstream.received.last)
        XCTAssertEqual(seen.head.headers.first(name: "te"), "trailers", "te: trailers is forwarded")
        XCTAssertEqual(seen.trailers?.first(name: "x-client-trailer"), "1")
        XCTAssertEqual(seen.body, message)
    }

    func testLuaReadsAndChangesTrailersBothWays() async throws {
        let plugin = LuaPlugin("trailers", """
            function envoy_on_request(h)
              local t = h:trailers()
              if t then t:add("x-lua-request-trailer", t:get("x-client-trailer") or "none") end
            end
            function envoy_on_response(h)
              local t = h:trailers()
              if t then t:replace("x-lua-saw-status", t:get("grpc-status") or "none") end
            end
            """)
        let proxy = try await startProxy(http2Config(inboundStages: stagesYAML([plugin])),
                                         plugins: ["trailers": plugin.source])
        let client = try await h2Client(proxy)
        let response = try await client.request(
            "POST", "/grpc.Echo/Say", headers: [("content-type", "application/grpc"), ("te", "trailers")],
            body: "grpc-bytes", trailers: [("x-client-trailer", "7")])
        XCTAssertEqual(response.status, 200, "\(response)")
        XCTAssertEqual(response.body, "grpc-bytes")
        XCTAssertEqual(response.trailers?.first(name: "grpc-status"), "0")
        XCTAssertEqual(response.trailers?.first(name: "x-lua-saw-status"), "0", "\(response)")
        let seen = try XCTUnwrap(h2Upstream.received.last)
        XCTAssertEqual(seen.trailers?.first(name: "x-lua-request-trailer"), "7")
    }

    func testGRPCTrailersReachAnHTTP11Client() async throws {
        let proxy = try await startProxy(http2Config())
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/grpc.Echo/Say",
                                                headers: [("content-type", "application/grpc"), ("te", "trailers")],
                                                body: "abc")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, "abc")
        XCTAssertEqual(h2Upstream.acceptedConnections, 1)
    }

    func testHTTP2UpstreamMultiplexesOneConnectionPerLoop() async throws {
        let proxy = try await startProxy(http2Config())
        let client = try await h2Client(proxy)
        // 20 requests at once over one downstream h2 connection: one loop, one upstream connection.
        try await withThrowingTaskGroup(of: TestHTTP2Response.self) { group in
            for index in 0..<20 {
                group.addTask { try await client.request("GET", "/h2/delay/300?n=\(index)") }
            }
            for try await response in group {
                XCTAssertEqual(response.status, 200)
                XCTAssertEqual(response.header("x-upstream-protocol"), "HTTP/2")
            }
        }
        XCTAssertEqual(h2Upstream.acceptedConnections, 1)
        XCTAssertEqual(h2Upstream.received.count, 20)
        // 20 HTTP/1.1 clients land on both loops: still at most one upstream connection each.
        var connections: [TestHTTPConnection] = []
        for _ in 0..<20 { connections.append(try await connect(proxy)) }
        try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, connection) in connections.enumerated() {
                group.addTask { try await connection.request("GET", "/h2/delay/200?m=\(index)").status }
            }
            for try await status in group { XCTAssertEqual(status, 200) }
        }
        XCTAssertLessThanOrEqual(h2Upstream.acceptedConnections, 2, "workers: 2 → at most one connection per loop")
        XCTAssertEqual(h2Upstream.received.count, 40)
    }

    func testListenerAdvertisesItsHTTP2Settings() async throws {
        let nghttp = try ExternalTool.find("nghttp")
        let proxy = try await startProxy(http2Config(
            listenerHTTP2: "{ max_concurrent_streams: 7, initial_window_size: 65536, max_header_list_size: 16384 }"))
        let output = try await nghttp.run(["-nv", "-t", "10", "http://127.0.0.1:\(await proxy.port("inbound"))/"])
        XCTAssertEqual(output.status, 0, output.stderr)
        XCTAssertTrue(output.stdout.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):7"), output.stdout)
        XCTAssertTrue(output.stdout.contains("SETTINGS_INITIAL_WINDOW_SIZE(0x04):65536"), output.stdout)
        XCTAssertTrue(output.stdout.contains("SETTINGS_MAX_HEADER_LIST_SIZE(0x06):16384"), output.stdout)
    }

    func testDrainSendsGoAwayAndLetsOpenStreamsFinish() async throws {
        let proxy = try await startProxy(http2Config())
        let client = try await h2Client(proxy)
        let idle = try await h2Client(proxy)
        _ = try await idle.request("GET", "/warm-up")
        async let slow = client.request("GET", "/h2/delay/400")
        let started = await pollLuaEffect { self.h2Upstream.received.count == 1 }
        XCTAssertTrue(started)
        let start = ContinuousClock.now
        await proxy.server.shutdown(drainTimeout: .seconds(5))
        let elapsed = ContinuousClock.now - start
        let response = try await slow
        XCTAssertEqual(response.status, 200, "the open stream finished during the drain")
        XCTAssertLessThan(elapsed, .seconds(3), "GOAWAY closed both connections once idle, before the drain timeout")
    }

    func testOversizedHeaderListIsRefused() async throws {
        let curl = try ExternalTool.find("curl")
        let proxy = try await startProxy(http2Config(listenerHTTP2: "{ max_header_list_size: 8192 }"))
        let url = "http://127.0.0.1:\(await proxy.port("inbound"))/big"
        let big = String(repeating: "a", count: 20_000)
        let output = try await curl.run(["-sS", "--max-time", "10", "--http2-prior-knowledge", "-H", "x-big: \(big)",
                                         "-o", "/dev/null", "-w", "%{http_code}", url])
        XCTAssertNotEqual(output.stdout, "200", output.stderr)
        XCTAssertTrue(upstream.received.isEmpty, "nothing reaches the upstream")
        let counters = await proxy.server.counters()
        XCTAssertGreaterThanOrEqual(counters["downstream_http2_protocol_errors"] ?? 0, 1)
        // A well-behaved client on a new connection is served.
        let ok = try await curl.run(["-sS", "--max-time", "10", "--http2-prior-knowledge", "-o", "/dev/null",
                                     "-w", "%{http_code}", url])
        XCTAssertEqual(ok.stdout, "200")
    }

    func testDisabledHTTP2ServesOnlyHTTP11() async throws {
        let curl = try ExternalTool.find("curl")
        let proxy = try await startProxy(http2Config(listenerHTTP2: "{ enabled: false }"))
        let url = "http://127.0.0.1:\(await proxy.port("inbound"))/"
        let h2 = try await curl.run(["-sS", "--max-time", "5", "--http2-prior-knowledge", url])
        XCTAssertNotEqual(h2.status, 0, "the preface is not HTTP/1.1: \(h2.stdout)")
        let h1 = try await curl.run(["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", url])
        XCTAssertEqual(h1.stdout, "200")
    }

    func testH2LoadHasNoFailedRequests() async throws {
        let h2load = try ExternalTool.find("h2load")
        let proxy = try await startProxy(http2Config())
        let port = await proxy.port("inbound")
        for path in ["/", "/h2/load"] {
            let output = try await h2load.run(["-n", "2000", "-c", "4", "-m", "10", "http://127.0.0.1:\(port)\(path)"],
                                              timeout: .seconds(60))
            XCTAssertEqual(output.status, 0, output.stdout + output.stderr)
            XCTAssertTrue(output.stdout.contains("2000 succeeded, 0 failed, 0 errored"), output.stdout)
            XCTAssertTrue(output.stdout.contains("2000 2xx"), output.stdout)
        }
        XCTAssertLessThanOrEqual(h2Upstream.acceptedConnections, 2)
    }
}
