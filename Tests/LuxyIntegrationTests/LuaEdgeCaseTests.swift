import LuxyTestSupport
import XCTest

/// Lua stages meeting the proxy's other paths: local replies from the core, pipelining,
/// bodies that arrive late or are too large, HEAD.
final class LuaEdgeCaseIntegrationTests: IntegrationTestCase {
    private let statusRecorder = LuaPlugin("recorder", """
        function on_response(h)
          h:headers():add("x-seen-status", h:headers():get(":status"))
          local body = h:body()
          h:headers():add("x-seen-body-length", tostring(body and body:length() or "nil"))
        end
        """)

    func testResponsePhaseSeesCoreErrorsDirectResponsesAndEcho() async throws {
        let routes = """
                  - name: dead
                    match: { prefix: /dead }
                    cluster: dead
                  - name: slow
                    match: { prefix: /delay }
                    cluster: slow
                  - name: hello
                    match: { path: /hello }
                    direct_response: { status: 201, body: "hi" }
        """
        let clusters = """
          - name: dead
            endpoints: ["127.0.0.1:1"]
          - name: slow
            endpoints: ["\(upstream.address)"]
            request_timeout: 200ms
        """
        let proxy = try await startLuaProxy([statusRecorder], routes: routes, cluster: clusters)
        let client = try await connect(proxy)
        let dead = try await client.request("GET", "/dead")
        XCTAssertEqual(dead.status, 503)
        XCTAssertEqual(dead.header("x-seen-status"), "503", "Envoy runs encoders on local replies too")
        XCTAssertEqual(dead.header("x-seen-body-length"), String(dead.body.utf8.count))
        let slow = try await client.request("GET", "/delay/3000")
        XCTAssertEqual(slow.status, 504)
        XCTAssertEqual(slow.header("x-seen-status"), "504")
        let hello = try await client.request("GET", "/hello")
        XCTAssertEqual(hello.status, 201)
        XCTAssertEqual(hello.body, "hi")
        XCTAssertEqual(hello.header("x-seen-body-length"), "2")
        let echo = try await client.request("POST", "/echo", body: "xyz")
        XCTAssertEqual(echo.status, 200)
        XCTAssertEqual(echo.header("x-seen-body-length"), String(echo.body.utf8.count))
    }

    /// The head is prepared for its upstream before the connect is waited for: a response
    /// phase sees the forwarding fields on a request whose connect failed, as on one that went.
    func testAResponsePhaseSeesTheForwardingFieldsWhenTheConnectFailed() async throws {
        let routes = """
                  - name: dead
                    match: { prefix: /dead }
                    cluster: dead
        """
        let clusters = """
          - name: dead
            endpoints: ["127.0.0.1:1"]
        """
        let plugin = LuaPlugin("forwarded", """
            function on_response(h)
              h:headers():add("x-seen-xff", h:requestHeaders():get("x-forwarded-for") or "none")
              h:headers():add("x-seen-xfp", h:requestHeaders():get("x-forwarded-proto") or "none")
            end
            """)
        let proxy = try await startLuaProxy([plugin], routes: routes, cluster: clusters)
        let client = try await connect(proxy)
        let dead = try await client.request("GET", "/dead")
        XCTAssertEqual(dead.status, 503)
        XCTAssertEqual(dead.header("x-seen-xff"), "127.0.0.1")
        XCTAssertEqual(dead.header("x-seen-xfp"), "http")
        let alive = try await client.request("GET", "/")
        XCTAssertEqual(alive.status, 200)
        XCTAssertEqual(alive.header("x-seen-xff"), "127.0.0.1")
    }

    func testRespondBeforeTheRequestBodyEndsKeepsTheConnectionUsable() async throws {
        let script = """
            function on_request(h)
              if h:headers():get(":path") == "/reject" then
                h:respond({[":status"] = "403"}, "rejected early")
              end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("early", script)])
        let client = try await connect(proxy)
        try await client.send("POST /reject HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n12345")
        let rejected = try await client.readResponse()
        XCTAssertEqual(rejected.status, 403)
        XCTAssertEqual(rejected.body, "rejected early")
        // The rest of the body, then the next request on the same connection.
        try await client.send("67890GET /next HTTP/1.1\r\nhost: x\r\n\r\n")
        let next = try await client.readResponse()
        XCTAssertEqual(next.status, 200, next.description)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/next"], "the rejected body never went upstream")
    }

    func testPipelinedRequestsThroughWaitingStagesAnswerInOrder() async throws {
        let script = """
            function on_request(h)
              local body = h:body()
              h:headers():add("x-body-seen", body and body:getBytes(0, body:length()) or "none")
            end
            function on_response(h)
              local b = h:body()
              h:headers():add("x-response-length", tostring(b:length()))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("waiter", script)])
        let client = try await connect(proxy)
        try await client.send(
            "POST /one HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc"
                + "GET /two HTTP/1.1\r\nhost: x\r\n\r\n"
                + "POST /three HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n")
        var bodies: [String] = []
        for _ in 0..<3 {
            let response = try await client.readResponse()
            XCTAssertEqual(response.status, 200, response.description)
            XCTAssertEqual(response.header("x-response-length"), String(response.body.utf8.count))
            bodies.append(String(response.body.prefix { $0 != "\n" }))
        }
        XCTAssertEqual(bodies, ["POST /one", "GET /two", "POST /three"])
        XCTAssertEqual(upstream.received.map { $0.head.headers.first(name: "x-body-seen") ?? "?" }, ["abc", "none", "de"])
    }

    func testLargeRequestBodyIsBufferedAndRewritten() async throws {
        let script = """
            function on_request(h)
              local body = h:body()
              local n = body:length()
              h:headers():add("x-original-length", tostring(n))
              body:setBytes(body:getBytes(n - 10, 10) .. string.rep("z", 100000))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("big", script)])
        let client = try await connect(proxy)
        let payload = String(repeating: "a", count: 299_990) + "0123456789"
        let response = try await client.request("POST", "/big", body: payload)
        XCTAssertEqual(response.status, 200, String(response.body.prefix(200)))
        let seen = try onlyRequest(upstream)
        XCTAssertEqual(seen.head.headers["x-original-length"], ["300000"])
        XCTAssertEqual(seen.head.headers["content-length"], ["100010"])
        XCTAssertEqual(seen.body.utf8.count, 100_010)
        XCTAssertTrue(seen.body.hasPrefix("0123456789zzz"))
    }

    func testResponseBodyOverTheBufferingLimitFailsCleanly() async throws {
        let script = """
            function on_response(h)
              h:headers():add("x-length", tostring(h:body():length()))
            end
            """
        let limits = """
        limits:
          max_buffered_body_bytes: 1024
        """
        let proxy = try await startLuaProxy([LuaPlugin("respbuffer", script)], limits: limits)
        let client = try await connect(proxy)
        let small = try await client.request("GET", "/bytes/1000")
        XCTAssertEqual(small.status, 200)
        XCTAssertEqual(small.header("x-length"), "1000")
        let big = try await client.request("GET", "/bytes/200000")
        XCTAssertTrue((500..<600).contains(big.status), big.description)
        XCTAssertNil(big.header("x-length"))
        XCTAssertLessThan(big.body.utf8.count, 1024, "no partial upstream body leaks through")
        let fresh = try await connect(proxy)
        let after = try await fresh.request("GET", "/bytes/10")
        XCTAssertEqual(after.status, 200)
        XCTAssertEqual(after.header("x-length"), "10")
    }

    func testHeadRequestWithResponseBodyStageDoesNotHang() async throws {
        let proxy = try await startLuaProxy([statusRecorder])
        let client = try await connect(proxy)
        let head = try await client.request("HEAD", "/head")
        XCTAssertEqual(head.status, 200, head.description)
        XCTAssertEqual(head.header("x-seen-status"), "200")
        let next = try await client.request("GET", "/after-head")
        XCTAssertEqual(next.status, 200, next.description)
        XCTAssertTrue(next.body.hasPrefix("GET /after-head"), next.body)
    }

    func testBodyAlwaysWrapGivesAnEmptyBufferThatCanBeFilled() async throws {
        // Envoy: body(always_wrap_body) "can be used to require Envoy always returns a body
        // object even if the body is empty. Therefore we can modify the body regardless of
        // whether the original body exists or not."
        let script = """
            function envoy_on_request(request_handle)
              request_handle:headers():add("x-plain", tostring(request_handle:body()))
              local body = request_handle:body(true)
              request_handle:headers():add("x-wrapped-length", body and tostring(body:length()) or "nil")
              if body then body:setBytes("filled in") end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("wrap", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/wrap")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream)
        XCTAssertEqual(seen.head.headers["x-plain"], ["nil"])
        XCTAssertEqual(seen.head.headers["x-wrapped-length"], ["0"], "body(true) is a buffer even without a body")
        XCTAssertEqual(seen.body, "filled in")
        XCTAssertEqual(seen.head.headers["content-length"], ["9"])
    }

    func testTimestampStringResolutions() async throws {
        let script = """
            function on_request(h)
              h:headers():add("x-ms", h:timestampString(EnvoyTimestampResolution.MILLISECOND))
              h:headers():add("x-us", h:timestampString(EnvoyTimestampResolution.MICROSECOND))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("clock", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/clock")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        let ms = try XCTUnwrap(Int(seen.first(name: "x-ms") ?? ""))
        let us = try XCTUnwrap(Int(seen.first(name: "x-us") ?? ""))
        XCTAssertEqual(String(ms).count, 13)
        XCTAssertEqual(String(us).count, 16)
        XCTAssertLessThan(abs(us / 1000 - ms), 1000)
    }

    func testClientLeavingDuringAnHttpCallLeavesTheProxyHealthy() async throws {
        let auth = try await FakeUpstream.start(name: "auth", group: group)
        let script = """
            function on_request(h)
              if h:headers():get(":path") == "/wait" then
                h:httpCall("auth", {[":method"] = "GET", [":path"] = "/delay/300", [":authority"] = "auth"}, nil, 2000)
                h:headers():add("x-after-call", "reached")
              end
            end
            """
        let cluster = """
          - name: auth
            endpoints: ["\(auth.address)"]
        """
        // One worker: the next client runs on the VM and the pools the abandoned call used.
        let proxy = try await startLuaProxy([LuaPlugin("caller", script)], cluster: cluster, workers: 1)
        let leaving = try await connect(proxy)
        try await leaving.send("GET /wait HTTP/1.1\r\nhost: x\r\n\r\n")
        let called = await pollLuaEffect { auth.received.count == 1 }
        XCTAssertTrue(called)
        await leaving.close()
        let client = try await connect(proxy)
        let start = ContinuousClock.now
        for i in 0..<3 {
            let response = try await client.request("GET", "/after/\(i)")
            XCTAssertEqual(response.status, 200, response.body)
        }
        // The abandoned call's answer arrives later and must not disturb anything.
        let slow = try await client.request("GET", "/delay/400")
        XCTAssertEqual(slow.status, 200)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        XCTAssertFalse(upstream.received.contains { $0.head.uri == "/wait" }, "the abandoned request never went upstream")
        // By now (after /delay/400) the abandoned call's answer came back and its connection
        // went back to the loop's pool: the next call reuses it.
        let waited = try await client.request("GET", "/wait")
        XCTAssertEqual(waited.status, 200, waited.body)
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-after-call"), "reached")
        XCTAssertEqual(auth.received.count, 2)
        XCTAssertEqual(auth.connectionsAccepted, 1, "the second call ran on the connection the abandoned one released")
        await auth.stop()
    }
}
