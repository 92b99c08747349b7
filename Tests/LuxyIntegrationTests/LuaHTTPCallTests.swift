import LuxyTestSupport
import XCTest

/// `httpCall` to a second fake upstream (`auth`): allow/deny, response shape, timeouts,
/// transport failures as 5xx responses, asynchronous calls.
final class LuaHTTPCallIntegrationTests: ResilienceTestCase {
    var auth: FakeUpstream!

    override func setUp() async throws {
        try await super.setUp()
        auth = try await startUpstream("auth")
    }

    private var authCluster: String {
        """
          - name: auth
            endpoints: ["\(auth.address)"]
            connect_timeout: 500ms
            request_timeout: 2s
        """
    }

    /// Asks `auth` (/status/200 for token "good", /status/403 otherwise) and answers 403
    /// itself when refused.
    private let authorizer = LuaPlugin("authorizer", """
        function envoy_on_request(request_handle)
          local token = request_handle:headers():get("x-token")
          local path = token == "good" and "/status/200" or "/status/403"
          local headers, body = request_handle:httpCall("auth", {
            [":method"] = "GET", [":path"] = path, [":authority"] = "auth.local", ["x-asked-for"] = tostring(token),
          }, "", 1000)
          if headers[":status"] ~= "200" then
            request_handle:respond({[":status"] = "403", ["x-denied-by"] = "auth"}, "denied: " .. headers[":status"])
          end
          request_handle:headers():add("x-auth-status", headers[":status"])
          request_handle:headers():add("x-auth-body", tostring(body))
        end
        """)

    func testAllowedRequestReachesTheUpstream() async throws {
        let proxy = try await startLuaProxy([authorizer], cluster: authCluster)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/books", headers: [("x-token", "good")])
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-auth-status"], ["200"], "':status' is a string")
        XCTAssertEqual(seen["x-auth-body"], ["nil"], "an empty body comes back as nil")
        let asked = try onlyRequest(auth).head
        XCTAssertEqual(asked.uri, "/status/200")
        XCTAssertEqual(asked.method, .GET)
        XCTAssertEqual(asked.headers["host"], ["auth.local"], ":authority becomes host")
        XCTAssertEqual(asked.headers["x-asked-for"], ["good"])
    }

    func testDeniedRequestNeverReachesTheUpstream() async throws {
        let proxy = try await startLuaProxy([authorizer], cluster: authCluster)
        let client = try await connect(proxy)
        let denied = try await client.request("POST", "/books", headers: [("x-token", "bad")], body: "payload")
        XCTAssertEqual(denied.status, 403, denied.description)
        XCTAssertEqual(denied.header("x-denied-by"), "auth")
        XCTAssertEqual(denied.body, "denied: 403")
        XCTAssertTrue(upstream.received.isEmpty)
        XCTAssertEqual(auth.received.map(\.head.uri), ["/status/403"])
        // Same connection, allowed this time.
        let allowed = try await client.request("GET", "/books", headers: [("x-token", "good")])
        XCTAssertEqual(allowed.status, 200, allowed.body)
        XCTAssertEqual(upstream.received.count, 1)
    }

    func testManyConcurrentDecisionsOnSeparateConnections() async throws {
        let proxy = try await startLuaProxy([authorizer], cluster: authCluster)
        let port = await proxy.port("inbound")
        let group = self.group!
        let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { tasks in
            for i in 0..<20 {
                tasks.addTask {
                    let connection = try await TestHTTPConnection.connect(port: port, group: group)
                    let response = try await connection.request("GET", "/c/\(i)", headers: [("x-token", i % 2 == 0 ? "good" : "bad")])
                    await connection.close()
                    return (i, response.status)
                }
            }
            var all: [Int: Int] = [:]
            for try await (i, status) in tasks { all[i] = status }
            return all
        }
        for i in 0..<20 { XCTAssertEqual(statuses[i], i % 2 == 0 ? 200 : 403, "request \(i)") }
        XCTAssertEqual(Set(upstream.received.map(\.head.uri)), Set(stride(from: 0, to: 20, by: 2).map { "/c/\($0)" }))
        XCTAssertEqual(auth.received.count, 20)
    }

    func testResponseHeadersAndBodyAndPostBodyOfTheCall() async throws {
        let script = """
            function on_request(h)
              local headers, body = h:httpCall("auth", {
                [":method"] = "POST", [":path"] = "/check?x=1", [":authority"] = "auth",
                ["content-type"] = "text/plain",
              }, "question", 1000)
              h:headers():add("x-call-status", headers[":status"])
              h:headers():add("x-call-upstream", headers["x-upstream"])
              h:headers():add("x-call-first-line", (body:match("^[^\\n]*")))
              h:headers():add("x-call-has-body", tostring(body:find("question", 1, true) ~= nil))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("caller", script)], cluster: authCluster)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/r")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-call-status"], ["200"])
        XCTAssertEqual(seen["x-call-upstream"], ["auth"], "header names of the call's response are lowercase keys")
        XCTAssertEqual(seen["x-call-first-line"], ["POST /check?x=1"])
        XCTAssertEqual(seen["x-call-has-body"], ["true"])
        let asked = try onlyRequest(auth)
        XCTAssertEqual(asked.body, "question")
        XCTAssertEqual(asked.head.headers["content-length"], ["8"])
        XCTAssertEqual(asked.head.headers["content-type"], ["text/plain"])
    }

    func testTwoSequentialCallsAndACallInTheResponsePhase() async throws {
        let script = """
            local function ask(h, path)
              local headers = h:httpCall("auth", {[":method"] = "GET", [":path"] = path, [":authority"] = "auth"}, nil, 1000)
              return headers[":status"]
            end
            function on_request(h)
              h:headers():add("x-calls", ask(h, "/status/201") .. "," .. ask(h, "/status/202"))
            end
            function on_response(h)
              h:headers():add("x-response-call", ask(h, "/status/204"))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("caller", script)], cluster: authCluster)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/seq")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-calls"], ["201,202"])
        XCTAssertEqual(response.header("x-response-call"), "204")
        XCTAssertEqual(auth.received.map(\.head.uri), ["/status/201", "/status/202", "/status/204"])
    }

    func testTimeoutComesBackAs504ToTheScript() async throws {
        let script = """
            function on_request(h)
              local headers, body = h:httpCall("auth", {[":method"] = "GET", [":path"] = "/delay/3000", [":authority"] = "auth"}, "", 200)
              if headers[":status"] == "504" then
                h:respond({[":status"] = "503", ["x-auth"] = "timeout"}, "auth timed out: " .. tostring(body))
              end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("slowauth", script)], cluster: authCluster)
        let client = try await connect(proxy)
        let start = ContinuousClock.now
        let response = try await client.request("GET", "/slow")
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(response.status, 503, response.description)
        XCTAssertEqual(response.header("x-auth"), "timeout")
        XCTAssertTrue(response.body.contains("timeout"), response.body)
        XCTAssertLessThan(elapsed, .milliseconds(2000), "the 200ms timeout bounds the call")
        XCTAssertTrue(upstream.received.isEmpty)
        XCTAssertFalse(proxy.logs.contains("plugin failed"), "a timeout is a response, not a script error")
    }

    func testOptionsTableWithTimeout() async throws {
        let script = """
            function on_request(h)
              local headers = h:httpCall("auth", {[":method"] = "GET", [":path"] = "/delay/3000", [":authority"] = "auth"},
                                         nil, {timeout_ms = 150})
              h:headers():add("x-call", headers[":status"])
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("opts", script)], cluster: authCluster)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/opts")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-call"], ["504"])
    }

    func testUnknownClusterRaisesAndRefusedEndpointIsA503Response() async throws {
        let dead = """
          - name: dead
            endpoints: ["127.0.0.1:1"]
            connect_timeout: 500ms
        """
        let script = """
            function on_request(h)
              local ok, err = pcall(h.httpCall, h, "nope", {[":method"] = "GET", [":path"] = "/", [":authority"] = "nope"}, "", 1000)
              local b, bbody = h:httpCall("dead", {[":method"] = "GET", [":path"] = "/", [":authority"] = "dead"}, "", 1000)
              h:headers():add("x-unknown", tostring(ok) .. " " .. err)
              h:headers():add("x-refused", b[":status"])
              h:headers():add("x-refused-body", bbody)
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("broken-deps", script)], cluster: dead)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/deps")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        // An unknown cluster raises at once, with Envoy's text; a refused endpoint is a 503
        // reply whose body has no newline, so it fits in a header as it is.
        XCTAssertEqual(seen["x-unknown"], ["false http call cluster invalid. Must be configured"])
        XCTAssertEqual(seen["x-refused"], ["503"])
        XCTAssertTrue(seen.first(name: "x-refused-body")?.contains("connection refused") ?? false, "\(seen)")
        XCTAssertFalse(proxy.logs.contains("plugin failed"))
    }

    func testAsynchronousCallReturnsAtOnce() async throws {
        let script = """
            function on_request(h)
              local r1 = h:httpCall("auth", {[":method"] = "POST", [":path"] = "/delay/1500", [":authority"] = "auth"},
                                    "fire", 5000, true)
              local r2 = h:httpCall("auth", {[":method"] = "GET", [":path"] = "/delay/1500", [":authority"] = "auth"},
                                    nil, {asynchronous = true, timeout_ms = 5000})
              h:headers():add("x-async-results", tostring(r1) .. "," .. tostring(r2))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("fireandforget", script)], cluster: authCluster)
        let client = try await connect(proxy)
        let start = ContinuousClock.now
        let response = try await client.request("GET", "/async")
        let elapsed = ContinuousClock.now - start
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertLessThan(elapsed, .milliseconds(1000), "the script did not wait for the 1.5s answers")
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-async-results"], ["nil,nil"])
        let bothArrived = await pollLuaEffect { auth.received.count == 2 }
        XCTAssertTrue(bothArrived, "the calls were made: \(auth.received.map(\.head.uri))")
        XCTAssertEqual(auth.received.first { $0.head.method == .POST }?.body, "fire")
    }

    func testEnvoyDocsHttpCallExample() async throws {
        // Envoy's documented example, with "foo" swapped for a header the fake upstream sends.
        let script = """
            function envoy_on_request(request_handle)
              -- Make an HTTP call to an upstream host with the following headers, body, and timeout.
              local headers, body = request_handle:httpCall(
              "lua_cluster",
              {
                [":method"] = "POST",
                [":path"] = "/",
                [":authority"] = "lua_cluster"
              },
              "hello world",
              5000)

              -- Add information from the HTTP call into the headers that are about to be sent to the next
              -- filter in the filter chain.
              request_handle:headers():add("upstream_foo", headers["x-upstream"])
              request_handle:headers():add("upstream_body_size", #body)
            end
            """
        let cluster = """
          - name: lua_cluster
            endpoints: ["\(auth.address)"]
        """
        let proxy = try await startLuaProxy([LuaPlugin("envoydoc", script)], cluster: cluster)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["upstream_foo"], ["auth"])
        let expectedSize = try onlyRequest(auth).head.headers.reduce("POST /\n".utf8.count + 1 + "hello world".utf8.count) {
            $0 + "\($1.name.lowercased()): \($1.value)\n".utf8.count
        }
        XCTAssertEqual(seen["upstream_body_size"], [String(expectedSize)], "an integer, added as a string without '.0'")
    }
}
