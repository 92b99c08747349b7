import Foundation
import LuxyTestSupport
import XCTest

/// What a failing script does to its request, and that it does nothing to the next one.
final class LuaFailureIntegrationTests: IntegrationTestCase {
    func testScriptErrorIs500LoggedWithFileAndLineAndTheNextRequestIsServed() async throws {
        let script = """
            function on_request(h)
              if h:headers():get("x-fail") then
                error("boom")
              end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("broken", script)])
        let client = try await connect(proxy)
        let failed = try await client.request("GET", "/f", headers: [("x-fail", "1")])
        XCTAssertEqual(failed.status, 500, failed.description)
        XCTAssertTrue(upstream.received.isEmpty)
        let entry = try XCTUnwrap(proxy.logs.all.first { $0.line.contains("plugins/broken.lua:3:") },
                                  "\(proxy.logs.all.map(\.line))")
        XCTAssertEqual(entry.level, .error)
        XCTAssertTrue(entry.line.contains("boom"), entry.line)
        XCTAssertEqual(entry.metadata["phase"], "request")
        // Same connection, then a fresh one: both served normally.
        let next = try await client.request("GET", "/ok")
        XCTAssertEqual(next.status, 200, next.body)
        let other = try await connect(proxy)
        let fresh = try await other.request("GET", "/ok2")
        XCTAssertEqual(fresh.status, 200, fresh.body)
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/ok", "/ok2"])
    }

    func testRuntimeErrorsFromLuaAndFromHostCallsNameTheirLine() async throws {
        let script = """
            function on_request(h)
              local path = h:headers():get(":path")
              if path == "/nilcall" then
                undefined_function()
              elseif path == "/badarg" then
                h:headers():add("x-bad", nil)
              elseif path == "/index" then
                h:body():length()
              end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("typos", script)])
        let client = try await connect(proxy)
        for path in ["/nilcall", "/badarg", "/index"] {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 500, "\(path): \(response.description)")
        }
        XCTAssertTrue(proxy.logs.contains("plugins/typos.lua:4: attempt to call a nil value (global 'undefined_function')"),
                      "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("plugins/typos.lua:6: bad argument #2 to 'add'"), "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("plugins/typos.lua:8: attempt to index a nil value"), "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(upstream.received.isEmpty)
        let fine = try await client.request("GET", "/fine")
        XCTAssertEqual(fine.status, 200)
    }

    func testFailOpenLetsTheRequestContinue() async throws {
        let script = """
            function on_request(h)
              h:headers():add("x-before-error", "yes")
              error("optional feature broke")
            end
            function on_response(h)
              error("response side broke too")
            end
            """
        let marker = LuaPlugin("marker", priority: 1, """
            function on_request(h) h:headers():add("x-later-stage", "ran") end
            """)
        let proxy = try await startLuaProxy([LuaPlugin("optional", priority: 10, options: ["fail_open: true"], script), marker])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/open")
        XCTAssertEqual(response.status, 200, response.description)
        XCTAssertEqual(response.header("x-upstream"), "backend")
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-later-stage"], ["ran"], "the chain continues after a fail-open stage")
        XCTAssertEqual(seen["x-before-error"], ["yes"], "changes made before the error stay")
        XCTAssertTrue(proxy.logs.all.contains {
            $0.line.contains("plugins/optional.lua:3: optional feature broke") && $0.metadata["fail_open"] == "true"
        }, "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("plugins/optional.lua:6: response side broke too"))
    }

    func testErrorInResponsePhaseIs500() async throws {
        let script = """
            function on_response(h)
              h:headers():add("x-partial", "1")
              error("cannot handle " .. h:headers():get(":status"))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("respfail", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/resp")
        XCTAssertEqual(response.status, 500, response.description)
        XCTAssertNil(response.header("x-upstream"), "nothing of the upstream's response leaks out")
        XCTAssertNil(response.header("x-partial"))
        XCTAssertEqual(upstream.received.count, 1, "the request did reach the upstream")
        XCTAssertTrue(proxy.logs.all.contains {
            $0.line.contains("plugins/respfail.lua:3: cannot handle 200") && $0.metadata["phase"] == "response"
        }, "\(proxy.logs.all.map(\.line))")
        // A streamed (chunked) upstream response is also replaced cleanly, and the connection lives on.
        let big = try await client.request("GET", "/bytes/100000")
        XCTAssertEqual(big.status, 500, big.description)
        XCTAssertLessThan(big.body.utf8.count, 1000)
        let direct = try await connect(proxy)
        let again = try await direct.request("GET", "/resp")
        XCTAssertEqual(again.status, 500)
    }

    func testInstructionBudgetExceededIs500AndTheProxyStillServes() async throws {
        let script = """
            function on_request(h)
              if h:headers():get("x-loop") then
                while true do end
              end
              local sum = 0
              for i = 1, 1000 do sum = sum + i end
              h:headers():add("x-sum", tostring(sum))
            end
            """
        let limits = """
        limits:
          lua_instruction_budget: 200000
        """
        let proxy = try await startLuaProxy([LuaPlugin("spinner", script)], limits: limits)
        let client = try await connect(proxy)
        let start = ContinuousClock.now
        let looping = try await client.request("GET", "/loop", headers: [("x-loop", "1")])
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
        XCTAssertEqual(looping.status, 500, looping.description)
        XCTAssertTrue(proxy.logs.contains("instruction budget exceeded"), "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(upstream.received.isEmpty)
        // The budget is per phase: ordinary requests on the same VM keep working.
        for i in 0..<3 {
            let ok = try await client.request("GET", "/ok/\(i)")
            XCTAssertEqual(ok.status, 200, ok.body)
        }
        XCTAssertEqual(upstream.received.last?.head.headers["x-sum"], ["500500"])
        let second = try await client.request("GET", "/loop", headers: [("x-loop", "1")])
        XCTAssertEqual(second.status, 500)
    }

    func testMemoryLimitExceededIs500AndTheProxyStillServes() async throws {
        let script = """
            function on_request(h)
              if h:headers():get("x-hog") then
                local t = {}
                for i = 1, 1000000 do t[i] = string.rep("x", 64) .. i end
              end
            end
            """
        let limits = """
        limits:
          lua_memory_bytes: 4194304
        """
        let proxy = try await startLuaProxy([LuaPlugin("hog", script)], limits: limits)
        let client = try await connect(proxy)
        let hog = try await client.request("GET", "/hog", headers: [("x-hog", "1")])
        XCTAssertEqual(hog.status, 500, hog.description)
        XCTAssertTrue(proxy.logs.contains("memory"), "\(proxy.logs.all.map(\.line))")
        let ok = try await client.request("GET", "/ok")
        XCTAssertEqual(ok.status, 200, ok.body)
    }

    func testHandleKeptInAGlobalFailsInALaterRequest() async throws {
        let script = """
            saved_handle = nil
            saved_headers = nil
            function on_request(h)
              local path = h:headers():get(":path")
              if path == "/use-handle" then
                saved_handle:logInfo("should not work")
              elseif path == "/use-headers" then
                saved_headers:get(":path")
              else
                saved_handle = h
                saved_headers = h:headers()
              end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("hoarder", script)])
        let client = try await connect(proxy)
        let first = try await client.request("GET", "/first")
        XCTAssertEqual(first.status, 200, first.body)
        let handle = try await client.request("GET", "/use-handle")
        XCTAssertEqual(handle.status, 500, handle.description)
        XCTAssertTrue(proxy.logs.contains("plugins/hoarder.lua:6: object used outside of proper scope"),
                      "\(proxy.logs.all.map(\.line))")
        XCTAssertFalse(proxy.logs.contains("should not work"))
        let headers = try await client.request("GET", "/use-headers")
        XCTAssertEqual(headers.status, 500, headers.description)
        XCTAssertTrue(proxy.logs.contains("plugins/hoarder.lua:8: object used outside of proper scope"))
        XCTAssertEqual(upstream.received.count, 1)
    }

    func testBodyKeptFromTheRequestPhaseFailsInTheResponsePhase() async throws {
        let script = """
            local body
            function on_request(h) body = h:body() end
            function on_response(h) h:headers():add("x-len", tostring(body:length())) end
            """
        let proxy = try await startLuaProxy([LuaPlugin("crossphase", script)])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/x", body: "abc")
        XCTAssertEqual(response.status, 500, response.description)
        XCTAssertTrue(proxy.logs.contains("plugins/crossphase.lua:3: object used outside of proper scope"),
                      "\(proxy.logs.all.map(\.line))")
    }

    func testRespondMisuseIsAScriptError() async throws {
        let script = """
            function on_request(h)
              local path = h:headers():get(":path")
              if path == "/nostatus" then h:respond({["x-a"] = "1"}, "x") end
              if path == "/badstatus" then h:respond({[":status"] = "99"}, "x") end
            end
            function on_response(h)
              if h:headers():get("x-upstream") and h:streamInfo():dynamicMetadata():get("never") == nil
                 and h:headers():get(":status") == "200" and h:route() == "late" then
                h:respond({[":status"] = "200"}, "late")
              end
            end
            """
        let routes = """
                  - name: late
                    match: { prefix: /late }
                    cluster: backend
        """
        let proxy = try await startLuaProxy([LuaPlugin("misuse", script)], routes: routes)
        let client = try await connect(proxy)
        let noStatus = try await client.request("GET", "/nostatus")
        XCTAssertEqual(noStatus.status, 500)
        XCTAssertTrue(proxy.logs.contains(":status must be between 200-599"), "\(proxy.logs.all.map(\.line))")
        let badStatus = try await client.request("GET", "/badstatus")
        XCTAssertEqual(badStatus.status, 500)
        XCTAssertTrue(proxy.logs.contains("misuse.lua:3: :status must be between 200-599"))
        let late = try await client.request("GET", "/late")
        XCTAssertEqual(late.status, 500, late.description)
        XCTAssertTrue(proxy.logs.contains("respond not currently supported in the response path"))
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/late"])
    }

    func testBodyOverTheBufferingLimitIs413() async throws {
        // docs/configuration.md: "max_buffered_body_bytes: ... a stage's body() over this → 413".
        let script = """
            function on_request(h) h:headers():add("x-len", tostring(h:body():length())) end
            """
        let limits = """
        limits:
          max_buffered_body_bytes: 1024
        """
        let proxy = try await startLuaProxy([LuaPlugin("buffering", script)], limits: limits)
        let client = try await connect(proxy)
        let small = try await client.request("POST", "/small", body: String(repeating: "a", count: 1000))
        XCTAssertEqual(small.status, 200, small.body)
        XCTAssertEqual(upstream.received.last?.head.headers["x-len"], ["1000"])
        let other = try await connect(proxy)
        let big = try await other.request("POST", "/big", body: String(repeating: "b", count: 5000))
        XCTAssertEqual(big.status, 413, big.description)
        XCTAssertEqual(upstream.received.count, 1)
    }

    func testClientGoingAwayWhileTheScriptWaitsLeavesTheProxyHealthy() async throws {
        let script = """
            function on_request(h)
              if h:headers():get(":path") == "/wait" then
                h:body()
              end
              h:headers():add("x-served", "1")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("waiter", script)])
        let leaving = try await connect(proxy)
        // A body promised but never sent: the script waits in body(), then the client leaves.
        try await leaving.send("POST /wait HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\npartial")
        await leaving.close()
        let client = try await connect(proxy)
        for i in 0..<4 {
            let response = try await client.request("GET", "/after/\(i)")
            XCTAssertEqual(response.status, 200, response.body)
        }
        XCTAssertEqual(upstream.received.map(\.head.uri), (0..<4).map { "/after/\($0)" })
    }

    func testHeaderInjectionAttemptsAreScriptErrors() async throws {
        let script = #"""
            function on_request(h)
              local path = h:headers():get(":path")
              if path == "/crlf-value" then h:headers():add("x-evil", "a\r\nx-injected: 1") end
              if path == "/bad-name" then h:headers():replace("bad name", "v") end
              if path == "/respond-crlf" then h:respond({[":status"] = "200", ["x-evil"] = "b\r\nx-injected: 2"}, "") end
            end
            function on_response(h)
              if h:headers():get("x-upstream") then h:headers():add("x-evil", "c\nx-injected: 3") end
            end
            """#
        let proxy = try await startLuaProxy([LuaPlugin("injector", script)])
        for (path, line) in [("/crlf-value", 3), ("/bad-name", 4), ("/response", 8)] {
            let client = try await connect(proxy)
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, 500, "\(path): \(response.description)")
            XCTAssertNil(response.header("x-injected"), path)
            XCTAssertTrue(proxy.logs.contains("plugins/injector.lua:\(line):"), "\(path): \(proxy.logs.all.map(\.line))")
        }
        XCTAssertFalse(upstream.received.contains { $0.head.headers.contains(name: "x-injected") })
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/response"])
        let client = try await connect(proxy)
        let respond = try? await client.request("GET", "/respond-crlf")
        XCTAssertEqual(respond?.status, 500, "respond() with a CR/LF header value: \(respond?.description ?? "connection dropped")")
    }
}
