import Foundation
import LuxyTestSupport
import XCTest

/// Every method of Envoy's stream handle (and Luxy's additions), driven by real requests
/// through the proxy to the fake upstream. Scripts report what they saw by adding request
/// headers (the upstream records them) or response headers (the client reads them).
final class LuaHandleIntegrationTests: IntegrationTestCase {
    // MARK: Headers

    func testRequestHeaderReadsIncludingPseudoHeadersAndRepeatedFields() async throws {
        let script = """
            function on_request(h)
              local hs = h:headers()
              hs:add("x-got-method", hs:get(":method"))
              hs:add("x-got-path", hs:get(":path"))
              hs:add("x-got-authority", hs:get(":authority"))
              hs:add("x-got-multi", hs:get("X-Multi"))
              hs:add("x-got-absent", tostring(hs:get("x-absent")))
              hs:add("x-got-count", tostring(hs:getNumValues("x-multi")))
              hs:add("x-got-count-type", math.type(hs:getNumValues("x-multi")))
              hs:add("x-got-count-absent", tostring(hs:getNumValues("x-absent")))
              hs:add("x-got-at0", hs:getAtIndex("x-multi", 0))
              hs:add("x-got-at1", hs:getAtIndex("x-multi", 1))
              hs:add("x-got-at2", tostring(hs:getAtIndex("x-multi", 2)))
              hs:add("x-got-at-absent", tostring(hs:getAtIndex("x-absent", 0)))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("reader", script)])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/books?id=7", headers: [("x-multi", "a"), ("X-Multi", "b")],
                                                body: "x", host: "books.local:8080")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-got-method"], ["POST"])
        XCTAssertEqual(seen["x-got-path"], ["/books?id=7"])
        XCTAssertEqual(seen["x-got-authority"], ["books.local:8080"])
        XCTAssertEqual(seen["x-got-multi"], ["a,b"], "repeated fields are joined with ','")
        XCTAssertEqual(seen["x-got-absent"], ["nil"])
        XCTAssertEqual(seen["x-got-count"], ["2"])
        XCTAssertEqual(seen["x-got-count-type"], ["integer"])
        XCTAssertEqual(seen["x-got-count-absent"], ["0"])
        XCTAssertEqual(seen["x-got-at0"], ["a"], "getAtIndex is 0-based")
        XCTAssertEqual(seen["x-got-at1"], ["b"])
        XCTAssertEqual(seen["x-got-at2"], ["nil"])
        XCTAssertEqual(seen["x-got-at-absent"], ["nil"])
    }

    func testRequestHeaderMutationsReachTheUpstream() async throws {
        let script = """
            function on_request(h)
              local hs = h:headers()
              hs:add("x-new", "v1")
              hs:add("x-new", "v2")
              hs:replace("x-rep", "new")
              hs:replace("x-fresh", "f")
              hs:remove("x-del")
              hs:remove("x-never-there")
              hs:replace(":path", "/rewritten" .. hs:get(":path"))
              hs:replace(":method", "PUT")
              hs:replace(":authority", "other.host")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("mutator", script)])
        let client = try await connect(proxy)
        let response = try await client.request(
            "GET", "/orig", headers: [("x-rep", "old1"), ("x-rep", "old2"), ("x-del", "gone"), ("x-keep", "k")])
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head
        XCTAssertEqual(seen.uri, "/rewritten/orig")
        XCTAssertEqual(seen.method, .PUT)
        XCTAssertEqual(seen.headers["host"], ["other.host"])
        XCTAssertEqual(seen.headers["x-new"], ["v1", "v2"], "add keeps both values")
        XCTAssertEqual(seen.headers["x-rep"], ["new"], "replace drops every old value")
        XCTAssertEqual(seen.headers["x-fresh"], ["f"], "replace adds an absent header")
        XCTAssertEqual(seen.headers["x-del"], [])
        XCTAssertEqual(seen.headers["x-keep"], ["k"])
    }

    func testPairsIteratesPseudoHeadersFirstThenEveryFieldValue() async throws {
        let script = """
            function on_request(h)
              local seen = {}
              for k, v in pairs(h:headers()) do seen[#seen + 1] = k .. "=" .. v end
              h:headers():add("x-seen", table.concat(seen, ";"))
            end
            function on_response(h)
              local seen = {}
              for k, v in pairs(h:headers()) do seen[#seen + 1] = k end
              h:headers():add("x-seen-response", table.concat(seen, ";"))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("iterator", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/p?q=1", headers: [("X-Multi", "a"), ("x-one", "1"), ("x-multi", "b")])
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try XCTUnwrap(onlyRequest(upstream).head.headers.first(name: "x-seen")).split(separator: ";").map(String.init)
        XCTAssertEqual(seen.count, 7, "\(seen)")
        XCTAssertEqual(Set(seen.prefix(4)), [":method=GET", ":path=/p?q=1", ":scheme=http", ":authority=localhost"],
                       "pseudo-headers come first: \(seen)")
        XCTAssertEqual(Array(seen.dropFirst(4)), ["x-multi=a", "x-one=1", "x-multi=b"],
                       "fields in wire order, names lowercased, each value once")
        let responseNames = try XCTUnwrap(response.header("x-seen-response")).split(separator: ";").map(String.init)
        XCTAssertEqual(responseNames.first, ":status")
        XCTAssertTrue(responseNames.contains("x-upstream"), "\(responseNames)")
    }

    func testResponseHeadersAreReadAndRewrittenInTheResponsePhase() async throws {
        let script = """
            function on_response(h)
              local hs = h:headers()
              hs:add("x-status-seen", hs:get(":status"))
              hs:add("x-upstream-seen", hs:get("x-upstream"))
              hs:add("x-absent-seen", tostring(hs:get("x-absent")))
              hs:remove("x-upstream")
              hs:replace("server", "luxy-lua")
              hs:add("x-resp", "1")
              hs:add("x-resp", "2")
              hs:add("x-resp-count", tostring(hs:getNumValues("x-resp")))
              hs:add("x-resp-at1", hs:getAtIndex("x-resp", 1))
              hs:replace(":status", "201")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("responder", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/r")
        XCTAssertEqual(response.status, 201, response.description)
        XCTAssertEqual(response.header("x-status-seen"), "200")
        XCTAssertEqual(response.header("x-upstream-seen"), "backend")
        XCTAssertEqual(response.header("x-absent-seen"), "nil")
        XCTAssertNil(response.header("x-upstream"))
        XCTAssertEqual(response.header("server"), "luxy-lua")
        XCTAssertEqual(response.headers.filter { $0.name == "x-resp" }.map(\.value), ["1", "2"])
        XCTAssertEqual(response.header("x-resp-count"), "2")
        XCTAssertEqual(response.header("x-resp-at1"), "2")
        XCTAssertTrue(response.body.hasPrefix("GET /r\n"), "the upstream's body is untouched: \(response.body)")
    }

    // MARK: Bodies

    func testRequestBodyIsReadAndReplacedWithMatchingContentLength() async throws {
        let script = """
            function on_request(h)
              local body = h:body()
              local hs = h:headers()
              hs:add("x-len", tostring(body:length()))
              hs:add("x-len-type", math.type(body:length()))
              hs:add("x-head", body:getBytes(0, 5))
              hs:add("x-tail", body:getBytes(6, body:length() - 6))
              local n = body:setBytes("replaced body!")
              hs:add("x-set-returned", tostring(n))
              hs:add("x-after", body:getBytes(0, body:length()))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("rewriter", script)])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/upload", body: "hello world")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream)
        XCTAssertEqual(seen.body, "replaced body!")
        XCTAssertEqual(seen.head.headers["content-length"], ["14"])
        XCTAssertEqual(seen.head.headers["x-len"], ["11"], "lengths are integers, printed without '.0'")
        XCTAssertEqual(seen.head.headers["x-len-type"], ["integer"])
        XCTAssertEqual(seen.head.headers["x-head"], ["hello"])
        XCTAssertEqual(seen.head.headers["x-tail"], ["world"], "a range past the end is clamped")
        XCTAssertEqual(seen.head.headers["x-set-returned"], ["14"])
        XCTAssertEqual(seen.head.headers["x-after"], ["replaced body!"])
    }

    func testChunkedRequestBodyReplacedGoesUpstreamWithContentLength() async throws {
        let script = """
            function on_request(h)
              local body = h:body()
              body:setBytes(string.upper(body:getBytes(0, body:length())))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("upper", script)])
        let client = try await connect(proxy)
        try await client.send("POST /up HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream)
        XCTAssertEqual(seen.body, "HELLO WORLD")
        XCTAssertEqual(seen.head.headers["content-length"], ["11"])
        XCTAssertEqual(seen.head.headers["transfer-encoding"], [])
    }

    /// Envoy's order: once iteration started the headers went on, so what the script saw is
    /// logged, not added to the request; `body()` after the loop raises as in Envoy.
    func testBodyChunksIterateTheBodyAndBodyAfterThemRaises() async throws {
        let script = """
            function on_request(h)
              local parts, total, text = 0, 0, ""
              for chunk in h:bodyChunks() do
                parts = parts + 1
                total = total + chunk:length()
                text = text .. chunk:getBytes(0, chunk:length())
              end
              local ok, err = pcall(h.body, h)
              h:logInfo("chunks total=" .. total .. " text=" .. (text == "" and "-" or text)
                .. " any=" .. tostring(parts > 0) .. " body=" .. tostring(err))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("chunks", script)])
        let client = try await connect(proxy)
        let empty = try await client.request("GET", "/none")
        XCTAssertEqual(empty.status, 200, empty.body)
        try await client.send("POST /some HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        let chunked = try await client.readResponse()
        XCTAssertEqual(chunked.status, 200, chunked.body)
        let received = upstream.received
        XCTAssertEqual(received.count, 2)
        guard received.count == 2 else { return }
        XCTAssertTrue(proxy.logs.contains("chunks total=0 text=- any=false body=cannot call body() after body has been streamed"),
                      "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("chunks total=11 text=hello world any=true body=cannot call body() after body has been streamed"),
                      "\(proxy.logs.all.map(\.line))")
        XCTAssertEqual(received[1].body, "hello world", "iterating does not consume the body")
    }

    func testResponseBodyIsReadAndReplaced() async throws {
        let script = """
            function on_response(h)
              local b = h:body()
              h:headers():add("x-orig-len", tostring(b:length()))
              h:headers():add("x-orig-start", b:getBytes(0, 6))
              b:setBytes("replaced")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("resp-body", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/abc")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(response.body, "replaced")
        XCTAssertEqual(response.header("content-length"), "8")
        XCTAssertEqual(response.header("x-orig-start"), "GET /a")
        let originalLength = try XCTUnwrap(Int(response.header("x-orig-len") ?? ""))
        XCTAssertGreaterThan(originalLength, "GET /abc\n".count, "the whole echoed body was seen")
        // A chunked upstream body, replaced: the client gets a content-length and no chunking.
        let big = try await client.request("GET", "/bytes/50000")
        XCTAssertEqual(big.status, 200)
        XCTAssertEqual(big.body, "replaced")
        XCTAssertEqual(big.header("x-orig-len"), "50000")
        XCTAssertEqual(big.header("content-length"), "8")
        XCTAssertNil(big.header("transfer-encoding"))
    }

    func testTrailersAreNilWithoutAnyAndReadableAfterTheBody() async throws {
        let script = """
            function on_request(h)
              local body = h:body()
              local t = h:trailers()
              h:headers():add("x-trailer", t == nil and "nil" or (t:get("x-trail") or "absent"))
            end
            function on_response(h)
              h:headers():add("x-response-trailers", tostring(h:trailers()))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("trailers", script)])
        let client = try await connect(proxy)
        let plain = try await client.request("POST", "/plain", body: "abc")
        XCTAssertEqual(plain.status, 200, plain.body)
        XCTAssertEqual(plain.header("x-response-trailers"), "nil")
        try await client.send("POST /t HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-trail: t1\r\n\r\n")
        let withTrailers = try await client.readResponse()
        XCTAssertEqual(withTrailers.status, 200, withTrailers.body)
        let received = upstream.received
        XCTAssertEqual(received.count, 2)
        guard received.count == 2 else { return }
        XCTAssertEqual(received[0].head.headers["x-trailer"], ["nil"])
        XCTAssertEqual(received[1].head.headers["x-trailer"], ["t1"])
        XCTAssertEqual(received[1].body, "hello")
    }

    // MARK: Metadata and stream info

    func testRouteMetadataFromYAML() async throws {
        let routes = """
                  - name: meta
                    match: { prefix: /meta }
                    cluster: backend
                    service: bookstore
                    metadata: {team: books, tier: 2, tags: [a, b], nested: {k: v}}
        """
        let script = """
            function on_request(h)
              local m = h:metadata()
              local hs = h:headers()
              local keys = {}
              for k, _ in pairs(m) do keys[#keys + 1] = k end
              table.sort(keys)
              hs:add("x-keys", table.concat(keys, ","))
              if m:get("team") == nil then return end
              hs:add("x-team", m:get("team"))
              hs:add("x-tier", tostring(m:get("tier")) .. ":" .. math.type(m:get("tier")))
              hs:add("x-tags", table.concat(m:get("tags"), "|"))
              hs:add("x-nested", m:get("nested").k)
              hs:add("x-missing", tostring(m:get("missing")))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("meta", script)], routes: routes)
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/meta/1")
        XCTAssertEqual(response.status, 200, response.body)
        let other = try await client.request("GET", "/plain")
        XCTAssertEqual(other.status, 200, other.body)
        let received = upstream.received
        XCTAssertEqual(received.count, 2)
        guard received.count == 2 else { return }
        let seen = received[0].head.headers
        XCTAssertEqual(seen["x-keys"], ["nested,tags,team,tier"])
        XCTAssertEqual(seen["x-team"], ["books"])
        XCTAssertEqual(seen["x-tier"], ["2:integer"])
        XCTAssertEqual(seen["x-tags"], ["a|b"])
        XCTAssertEqual(seen["x-nested"], ["v"])
        XCTAssertEqual(seen["x-missing"], ["nil"])
        XCTAssertEqual(received[1].head.headers["x-keys"], [""], "a route without metadata has an empty one")
        XCTAssertEqual(received[1].head.headers["x-team"], [])
    }

    func testStreamInfoAddressesProtocolAndConnection() async throws {
        let script = """
            function on_request(h)
              local si = h:streamInfo()
              local hs = h:headers()
              hs:add("x-proto", si:protocol())
              hs:add("x-local", si:downstreamLocalAddress())
              hs:add("x-remote", si:downstreamDirectRemoteAddress())
              hs:add("x-remote-any", si:downstreamRemoteAddress())
              hs:add("x-ssl", tostring(h:connection():ssl()))
            end
            function on_response(h)
              h:headers():add("x-proto", h:streamInfo():protocol())
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("info", script)])
        let port = await proxy.port("inbound")
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/info")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-proto"], ["HTTP/1.1"])
        XCTAssertEqual(seen["x-local"], ["127.0.0.1:\(port)"])
        let remote = try XCTUnwrap(seen.first(name: "x-remote"))
        XCTAssertNotNil(remote.range(of: #"^127\.0\.0\.1:[0-9]+$"#, options: .regularExpression), remote)
        XCTAssertNotEqual(remote, "127.0.0.1:\(port)")
        XCTAssertEqual(seen["x-remote-any"], [remote])
        XCTAssertEqual(seen["x-ssl"], ["nil"])
        // HTTP/1.0 is reported as such.
        let old = try await connect(proxy)
        try await old.send("GET /old HTTP/1.0\r\nhost: x\r\n\r\n")
        let oldResponse = try await old.readResponse()
        XCTAssertEqual(oldResponse.status, 200, oldResponse.body)
        XCTAssertEqual(oldResponse.header("x-proto"), "HTTP/1.0")
    }

    func testDynamicMetadataCrossesPhasesAndPluginsAndStaysPerRequest() async throws {
        let first = """
            function on_request(h)
              local dm = h:streamInfo():dynamicMetadata()
              dm:set("luxy.first", "user", h:headers():get("x-user") or "anon")
              dm:set("luxy.first", "count", 3)
            end
            function on_response(h)
              local dm = h:streamInfo():dynamicMetadata()
              local mine = dm:get("luxy.first")
              local theirs = dm:get("luxy.second")
              h:headers():add("x-first-user", mine.user)
              h:headers():add("x-count", tostring(mine.count) .. ":" .. math.type(mine.count))
              h:headers():add("x-second-saw", theirs and theirs.saw or "nil")
              local names = {}
              for name, _ in pairs(dm) do names[#names + 1] = name end
              table.sort(names)
              h:headers():add("x-namespaces", table.concat(names, ","))
            end
            """
        let second = """
            function on_request(h)
              local dm = h:streamInfo():dynamicMetadata()
              local prior = dm:get("luxy.first")
              dm:set("luxy.second", "saw", prior and prior.user or "nothing")
              h:headers():add("x-prior-second", tostring(dm:get("luxy.unset")))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("first", priority: 20, first),
                                             LuaPlugin("second", priority: 10, second)])
        let client = try await connect(proxy)
        let alice = try await client.request("GET", "/a", headers: [("x-user", "alice")])
        XCTAssertEqual(alice.status, 200, alice.body)
        XCTAssertEqual(alice.header("x-first-user"), "alice")
        XCTAssertEqual(alice.header("x-count"), "3:integer")
        XCTAssertEqual(alice.header("x-second-saw"), "alice", "the second plugin read what the first set")
        XCTAssertEqual(alice.header("x-namespaces"), "luxy.first,luxy.second")
        let anon = try await client.request("GET", "/b")
        XCTAssertEqual(anon.status, 200, anon.body)
        XCTAssertEqual(anon.header("x-first-user"), "anon", "metadata does not leak into the next request")
        XCTAssertEqual(anon.header("x-second-saw"), "anon")
        XCTAssertEqual(upstream.received.first?.head.headers["x-prior-second"], ["nil"])
    }

    // MARK: Utilities

    func testBase64TimestampIntegersAndLogging() async throws {
        let script = #"""
            function on_request(h)
              local hs = h:headers()
              hs:add("x-b64", h:base64Escape("hello\0world"))
              hs:add("x-b64-empty", "[" .. h:base64Escape("") .. "]")
              local ts = h:timestamp()
              hs:add("x-ts-type", math.type(ts))
              hs:add("x-ts", tostring(ts))
              hs:add("x-ts-string", h:timestampString())
              hs:add("x-len", tostring(h:body():length()))
              h:logTrace("trace line")
              h:logDebug("debug line")
              h:logInfo("info line " .. hs:get(":path"))
              h:logWarn("warn line")
              h:logErr("err line")
              h:logCritical("critical line")
            end
            """#
        let proxy = try await startLuaProxy([LuaPlugin("util", script)])
        let client = try await connect(proxy)
        let before = Int(Date().timeIntervalSince1970 * 1000)
        let response = try await client.request("POST", "/util", body: "abcd")
        let after = Int(Date().timeIntervalSince1970 * 1000)
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-b64"], ["aGVsbG8Ad29ybGQ="])
        XCTAssertEqual(seen["x-b64-empty"], ["[]"])
        XCTAssertEqual(seen["x-ts-type"], ["integer"])
        let ts = try XCTUnwrap(Int(seen.first(name: "x-ts") ?? ""), "timestamp printed without '.0'")
        XCTAssertTrue((before - 5...after + 5).contains(ts), "timestamp() is wall-clock milliseconds: \(ts)")
        let tsString = try XCTUnwrap(Int(seen.first(name: "x-ts-string") ?? ""))
        XCTAssertTrue((before - 5...after + 5).contains(tsString), "timestampString() is milliseconds: \(tsString)")
        XCTAssertEqual(seen["x-len"], ["4"])

        let expected: [(String, String)] = [
            ("trace line", "trace"), ("debug line", "debug"), ("info line /util", "info"),
            ("warn line", "warning"), ("err line", "error"), ("critical line", "critical"),
        ]
        for (message, level) in expected {
            let entry = proxy.logs.all.first { $0.message == message }
            XCTAssertEqual(entry.map { "\($0.level)" }, level, message)
            XCTAssertEqual(entry?.metadata["plugin"], "plugins/util.lua", message)
        }
    }

    func testLuxyAdditionsConfigRouteServiceClusterUpstreamDirection() async throws {
        let script = """
            local at_load = config.greeting
            function on_request(h)
              local hs = h:headers()
              hs:add("x-config", h:config().greeting .. "," .. config.greeting .. "," .. at_load)
              hs:add("x-config-paths", table.concat(h:config().paths, "|"))
              hs:add("x-config-limit", math.type(config.limit) .. ":" .. tostring(config.limit))
              hs:add("x-route", h:route())
              hs:add("x-service", tostring(h:service()))
              hs:add("x-cluster", tostring(h:cluster()))
              hs:add("x-upstream-on-request", tostring(h:upstream()))
              hs:add("x-direction", h:direction())
              hs:add("x-protocol", h:protocol())
              hs:add("x-http2", tostring(h:isHTTP2()))
            end
            function on_response(h)
              local hs = h:headers()
              hs:add("x-upstream-on-response", tostring(h:upstream()))
              hs:add("x-route", tostring(h:route()))
              hs:add("x-service", tostring(h:service()))
              hs:add("x-cluster", tostring(h:cluster()))
            end
            """
        let plugin = LuaPlugin("extras", options: ["config: {greeting: hi, paths: [/a, /b], limit: 5}"], script)
        let proxy = try await startLuaProxy([plugin])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/x")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-config"], ["hi,hi,hi"], "config() and the global `config` are the stage's config")
        XCTAssertEqual(seen["x-config-paths"], ["/a|/b"])
        XCTAssertEqual(seen["x-config-limit"], ["integer:5"])
        XCTAssertEqual(seen["x-route"], ["backend"])
        XCTAssertEqual(seen["x-service"], ["bookstore"])
        XCTAssertEqual(seen["x-cluster"], ["backend"])
        XCTAssertEqual(seen["x-upstream-on-request"], ["nil"], "no endpoint is picked before the request stages end")
        XCTAssertEqual(seen["x-direction"], ["inbound"])
        XCTAssertEqual(seen["x-protocol"], ["HTTP/1.1"])
        XCTAssertEqual(seen["x-http2"], ["false"])
        XCTAssertEqual(response.header("x-upstream-on-response"), upstream.address)
        XCTAssertEqual(response.header("x-route"), "backend")

        // The echo route has no service, no cluster, no upstream.
        let echo = try await client.request("GET", "/echo")
        XCTAssertEqual(echo.status, 200, echo.body)
        XCTAssertEqual(echo.header("x-route"), "echo")
        XCTAssertEqual(echo.header("x-service"), "nil")
        XCTAssertEqual(echo.header("x-cluster"), "nil")
        XCTAssertEqual(echo.header("x-upstream-on-response"), "nil")
    }

    func testBothEntryPointSpellingsRun() async throws {
        let envoyStyle = """
            function envoy_on_request(request_handle)
              request_handle:headers():add("x-envoy-style", "request")
            end
            function envoy_on_response(response_handle)
              response_handle:headers():add("x-envoy-style", "response")
            end
            """
        let luxyStyle = """
            function on_request(h)
              h:headers():add("x-luxy-style", "request")
            end
            function on_response(h)
              h:headers():add("x-luxy-style", "response")
            end
            """
        let responseOnly = """
            function envoy_on_response(h)
              h:headers():add("x-response-only", "yes")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("envoystyle", priority: 3, envoyStyle),
                                             LuaPlugin("luxystyle", priority: 2, luxyStyle),
                                             LuaPlugin("responseonly", priority: 1, responseOnly)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/both")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-envoy-style"], ["request"])
        XCTAssertEqual(seen["x-luxy-style"], ["request"])
        XCTAssertEqual(response.header("x-envoy-style"), "response")
        XCTAssertEqual(response.header("x-luxy-style"), "response")
        XCTAssertEqual(response.header("x-response-only"), "yes")
    }
}
