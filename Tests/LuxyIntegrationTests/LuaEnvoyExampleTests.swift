import LuxyTestSupport
import XCTest

/// Scripts written the way Envoy's Lua filter documentation writes them, run unchanged
/// (except for cluster names and headers the fake upstream can produce).
final class LuaEnvoyExampleIntegrationTests: IntegrationTestCase {
    func testClassicBodySizeHeadersExample() async throws {
        let script = """
            -- Called on the request path.
            function envoy_on_request(request_handle)
              -- Wait for the entire request body and add a request header with the body size.
              request_handle:headers():add("request_body_size", request_handle:body():length())
            end

            -- Called on the response path.
            function envoy_on_response(response_handle)
              -- Wait for the entire response body and add a response header with the body size.
              response_handle:headers():add("response_body_size", response_handle:body():length())
              -- Remove a response header named 'foo'
              response_handle:headers():remove("foo")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("bodysize", script)])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/", body: "hello world")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["request_body_size"], ["11"],
                       "a number passed as a header value becomes its integer text")
        XCTAssertEqual(response.header("response_body_size"), String(response.body.utf8.count))
    }

    func testSandboxExampleAddsRequestAndResponseHeaders() async throws {
        // Envoy's examples/lua sandbox script.
        let script = """
            function envoy_on_request(request_handle)
              request_handle:headers():add("foo", "bar")
            end
            function envoy_on_response(response_handle)
              body_size = response_handle:body():length()
              response_handle:headers():add("response-body-size", tostring(body_size))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("sandbox", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertTrue(response.body.contains("foo: bar\n"), response.body)
        XCTAssertEqual(response.header("response-body-size"), String(response.body.utf8.count))
    }

    func testPathBasedDecisionsWithHeadersGet() async throws {
        let script = """
            function envoy_on_request(request_handle)
              local path = request_handle:headers():get(":path")
              local method = request_handle:headers():get(":method")
              if string.sub(path, 1, 7) == "/admin/" and method ~= "GET" then
                request_handle:respond({[":status"] = "403", ["content-type"] = "text/plain"}, "Forbidden")
                return
              end
              request_handle:headers():add("x-path-seen", path)
              request_handle:logInfo("path: " .. path .. " authority: " .. request_handle:headers():get(":authority"))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("pathcheck", script)])
        let client = try await connect(proxy)
        let forbidden = try await client.request("DELETE", "/admin/users/1")
        XCTAssertEqual(forbidden.status, 403, forbidden.description)
        XCTAssertEqual(forbidden.body, "Forbidden")
        XCTAssertEqual(forbidden.header("content-type"), "text/plain")
        let allowed = try await client.request("GET", "/admin/users/1", host: "api.example.com")
        XCTAssertEqual(allowed.status, 200, allowed.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-path-seen"], ["/admin/users/1"])
        XCTAssertTrue(proxy.logs.contains("path: /admin/users/1 authority: api.example.com"))
    }

    func testBodyChunksRewriteExample() async throws {
        let script = """
            function envoy_on_response(response_handle)
              -- Sets the content-type.
              response_handle:headers():replace("content-type", "text/html")
              local last
              for chunk in response_handle:bodyChunks() do
                -- Clears each received chunk.
                chunk:setBytes("")
                last = chunk
              end

              last:setBytes("<html><b>Not Found<b></html>")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("notfound", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/bytes/40000")
        XCTAssertEqual(response.status, 200, response.description)
        XCTAssertEqual(response.header("content-type"), "text/html")
        XCTAssertEqual(response.body, "<html><b>Not Found<b></html>")
        // The body streamed through the script, which may resize chunks: the 40000 the
        // upstream declared no longer holds, so it goes without a length (chunked).
        XCTAssertNil(response.header("content-length"))
    }

    func testDynamicMetadataTableExampleAndHeaderLogging() async throws {
        let script = """
            function envoy_on_request(request_handle)
              request_handle:streamInfo():dynamicMetadata():set("envoy.filters.http.lua", "request.info", {
                auth = request_handle:headers():get("authorization"),
                token = request_handle:headers():get("x-request-token"),
              })
              for key, value in pairs(request_handle:headers()) do
                request_handle:logDebug("header " .. key .. ": " .. value)
              end
            end

            function envoy_on_response(response_handle)
              local meta = response_handle:streamInfo():dynamicMetadata():get("envoy.filters.http.lua")["request.info"]
              response_handle:logInfo("Auth: " .. meta.auth .. ", token: " .. meta.token)
              response_handle:headers():add("x-token-echo", meta.token)
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("metalog", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/m", headers: [("authorization", "Bearer abc"), ("x-request-token", "t-1")])
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(response.header("x-token-echo"), "t-1")
        XCTAssertTrue(proxy.logs.contains("Auth: Bearer abc, token: t-1"), "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("header :path: /m"))
        XCTAssertTrue(proxy.logs.contains("header x-request-token: t-1"))
    }

    func testRespondWithHeadersFromAnHttpCallExample() async throws {
        let auth = try await FakeUpstream.start(name: "auth", group: group)
        let script = """
            function envoy_on_request(request_handle)
              -- Make an HTTP call.
              local headers, body = request_handle:httpCall(
              "lua_cluster",
              {
                [":method"] = "POST",
                [":path"] = "/",
                [":authority"] = "lua_cluster",
                ["set-cookie"] = { "lang=lua; Path=/", "type=binding; Path=/" }
              },
              "hello world",
              5000)

              -- Response directly and set a header from the HTTP call. No further filter iteration
              -- occurs.
              request_handle:respond(
                {[":status"] = "403",
                 ["upstream_foo"] = headers["x-upstream"]},
                "nope")
            end
            """
        let cluster = """
          - name: lua_cluster
            endpoints: ["\(auth.address)"]
        """
        let proxy = try await startLuaProxy([LuaPlugin("respondcall", script)], cluster: cluster)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/")
        XCTAssertEqual(response.status, 403, response.description)
        XCTAssertEqual(response.header("upstream_foo"), "auth")
        XCTAssertEqual(response.body, "nope")
        XCTAssertTrue(upstream.received.isEmpty)
        let call = try onlyRequest(auth)
        XCTAssertEqual(call.head.headers["set-cookie"], ["lang=lua; Path=/", "type=binding; Path=/"],
                       "a table value sends the header once per value")
        XCTAssertEqual(call.body, "hello world")
        await auth.stop()
    }
}
