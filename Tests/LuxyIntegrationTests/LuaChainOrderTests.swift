import LuxyTestSupport
import XCTest

/// The order stages run in: by priority (higher first) on requests, reversed on responses,
/// ties by name; `disabled`, `services:` scoping and `respond()` short-circuits.
final class LuaChainOrderIntegrationTests: IntegrationTestCase {
    /// A stage that appends its name to `x-order` on the request and on the response, both as
    /// one growing value and as one field per stage.
    private func appender(_ name: String, priority: Int, options: [String] = []) -> LuaPlugin {
        LuaPlugin(name, priority: priority, options: options, """
            local me = "\(name)"
            local function append(hs)
              local before = hs:get("x-order")
              hs:replace("x-order", before and (before .. ">" .. me) or me)
              hs:add("x-each", me)
            end
            function on_request(h) append(h:headers()) end
            function on_response(h) append(h:headers()) end
            """)
    }

    func testRequestsRunHighToLowAndResponsesLowToHigh() async throws {
        // Declared in an order that is neither priority nor name order.
        let proxy = try await startLuaProxy([appender("alpha", priority: 10), appender("beta", priority: 30),
                                             appender("gamma", priority: 20)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/order")
        XCTAssertEqual(response.status, 200, response.body)
        let seen = try onlyRequest(upstream).head.headers
        XCTAssertEqual(seen["x-order"], ["beta>gamma>alpha"])
        XCTAssertEqual(seen["x-each"], ["beta", "gamma", "alpha"])
        XCTAssertEqual(response.header("x-order"), "alpha>gamma>beta")
        XCTAssertEqual(response.headers.filter { $0.name.lowercased() == "x-each" }.map(\.value), ["alpha", "gamma", "beta"])
    }

    func testTiesAreBrokenByName() async throws {
        let proxy = try await startLuaProxy([appender("zeta", priority: 5), appender("eta", priority: 5),
                                             appender("mu", priority: 5), appender("top", priority: 6)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/ties")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-order"], ["top>eta>mu>zeta"])
        XCTAssertEqual(response.header("x-order"), "zeta>mu>eta>top")
    }

    func testNegativePrioritiesAndOneSidedStagesKeepTheirPlace() async throws {
        let requestOnly = LuaPlugin("requestonly", priority: 0, """
            function envoy_on_request(h) h:headers():replace("x-order", h:headers():get("x-order") .. ">requestonly") end
            """)
        let responseOnly = LuaPlugin("responseonly", priority: 15, """
            function envoy_on_response(h) h:headers():replace("x-order", h:headers():get("x-order") .. ">responseonly") end
            """)
        let proxy = try await startLuaProxy([appender("low", priority: -5), requestOnly, appender("high", priority: 20),
                                             responseOnly])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/sided")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-order"], ["high>requestonly>low"])
        XCTAssertEqual(response.header("x-order"), "low>responseonly>high")
    }

    func testDisabledStageDoesNotRun() async throws {
        let proxy = try await startLuaProxy([appender("on", priority: 2),
                                             appender("off", priority: 1, options: ["disabled: true"])])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/disabled")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-order"], ["on"])
        XCTAssertEqual(response.header("x-order"), "on")
    }

    func testServicesScopingSkipsStagesOfOtherServices() async throws {
        let proxy = try await startLuaProxy([
            appender("everyone", priority: 30),
            appender("otheronly", priority: 20, options: ["services: [other]"]),
            appender("bookstoreonly", priority: 10, options: ["services: [bookstore, other]"]),
        ])
        let client = try await connect(proxy)
        let books = try await client.request("GET", "/books")
        XCTAssertEqual(books.status, 200, books.body)
        XCTAssertEqual(try onlyRequest(upstream).head.headers["x-order"], ["everyone>bookstoreonly"],
                       "a stage scoped to 'other' does not run for a 'bookstore' route")
        XCTAssertEqual(books.header("x-order"), "bookstoreonly>everyone")
        // The echo route names no service: only unscoped stages run.
        let echo = try await client.request("GET", "/echo")
        XCTAssertEqual(echo.status, 200, echo.body)
        XCTAssertEqual(echo.header("x-order"), "everyone")
        XCTAssertTrue(echo.body.contains("\"x-order\":\"everyone\""), echo.body)
    }

    func testServicesScopingRunsTheStageForItsOwnService() async throws {
        let routes = """
                  - name: other
                    match: { prefix: /other }
                    cluster: backend
                    service: other
        """
        let yaml = standardConfig(inboundStages: stagesYAML([
            appender("everyone", priority: 30), appender("otheronly", priority: 20, options: ["services: [other]"]),
        ]), routes: routes)
        let proxy = try await startProxy(yaml, plugins: [
            "everyone": appender("everyone", priority: 30).source,
            "otheronly": appender("otheronly", priority: 20).source,
        ])
        let client = try await connect(proxy)
        let other = try await client.request("GET", "/other/x")
        XCTAssertEqual(other.status, 200, other.body)
        let books = try await client.request("GET", "/books")
        XCTAssertEqual(books.status, 200, books.body)
        let received = upstream.received
        XCTAssertEqual(received.map { $0.head.headers["x-order"] }, [["everyone>otheronly"], ["everyone"]])
        XCTAssertEqual(other.header("x-order"), "otheronly>everyone")
        XCTAssertEqual(books.header("x-order"), "everyone")
    }

    // MARK: respond()

    func testRespondShortCircuitsWithStatusHeadersAndBody() async throws {
        let script = """
            function envoy_on_request(h)
              if h:headers():get(":path") == "/blocked" then
                h:respond({[":status"] = "418", ["x-reason"] = "teapot", ["x-multi"] = {"a", "b"}}, "short and stout")
                error("never reached: respond() does not return")
              end
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("gate", script)])
        let client = try await connect(proxy)
        let blocked = try await client.request("POST", "/blocked", body: "ignored")
        XCTAssertEqual(blocked.status, 418, blocked.description)
        XCTAssertEqual(blocked.header("x-reason"), "teapot")
        XCTAssertEqual(blocked.headers.filter { $0.name.lowercased() == "x-multi" }.map(\.value), ["a", "b"])
        XCTAssertEqual(blocked.body, "short and stout")
        XCTAssertEqual(blocked.header("content-length"), "15")
        XCTAssertTrue(upstream.received.isEmpty, "a local reply never reaches the upstream")
        // The connection stays usable and other paths go through.
        let open = try await client.request("GET", "/open")
        XCTAssertEqual(open.status, 200, open.body)
        XCTAssertEqual(upstream.received.count, 1)
        XCTAssertFalse(proxy.logs.contains("never reached"))
    }

    func testRespondWithoutBodyOrExtraHeaders() async throws {
        let script = """
            function on_request(h) h:respond({[":status"] = "204"}) end
            """
        let proxy = try await startLuaProxy([LuaPlugin("nocontent", script)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/x")
        XCTAssertEqual(response.status, 204, response.description)
        XCTAssertEqual(response.body, "")
        XCTAssertTrue(upstream.received.isEmpty)
        let again = try await client.request("GET", "/y")
        XCTAssertEqual(again.status, 204, "the connection survives a bodiless local reply")
    }

    func testLocalReplyPassesResponsePhasesOfEarlierStagesOnly() async throws {
        let responder = LuaPlugin("responder", priority: 20, """
            function on_request(h)
              h:logInfo("responder request ran")
              h:respond({[":status"] = "403", ["x-order"] = "local"}, "denied")
            end
            function on_response(h) h:logInfo("responder response ran") end
            """)
        let inner = LuaPlugin("inner", priority: 10, """
            function on_request(h) h:logInfo("inner request ran") end
            function on_response(h) h:logInfo("inner response ran") end
            """)
        let proxy = try await startLuaProxy([appender("outer", priority: 30), responder, inner,
                                             appender("outermost", priority: 40)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/denied")
        XCTAssertEqual(response.status, 403, response.description)
        XCTAssertEqual(response.body, "denied")
        XCTAssertEqual(response.header("x-order"), "local>outer>outermost",
                       "earlier stages' response phases see the local reply, in reverse order")
        XCTAssertTrue(upstream.received.isEmpty)
        XCTAssertTrue(proxy.logs.contains("responder request ran"))
        XCTAssertFalse(proxy.logs.contains("inner request ran"), "later stages never see the request")
        XCTAssertFalse(proxy.logs.contains("inner response ran"), "nor the local reply")
    }

    func testEarlierResponsePhaseCanRewriteTheLocalReplyBody() async throws {
        let wrapper = LuaPlugin("wrapper", priority: 20, """
            function on_response(h)
              local b = h:body()
              b:setBytes("[" .. b:getBytes(0, b:length()) .. "]")
              h:headers():replace(":status", "401")
            end
            """)
        let gate = LuaPlugin("gate", priority: 10, """
            function on_request(h) h:respond({[":status"] = "403"}, "no") end
            """)
        let proxy = try await startLuaProxy([wrapper, gate])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/wrapped")
        XCTAssertEqual(response.status, 401, response.description)
        XCTAssertEqual(response.body, "[no]")
        XCTAssertEqual(response.header("content-length"), "4")
        XCTAssertTrue(upstream.received.isEmpty)
    }
}
