import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `luxy test` as a user runs it: the built binary on test files in a temporary folder.
final class PluginTestCommandTests: XCTestCase {
    typealias Outcome = LuxyCommandRunner.Outcome

    private var folder: LuxyCommandFolder!

    override func setUpWithError() throws {
        folder = try LuxyCommandFolder("luxy-test")
        try folder.write("plugins/greet.lua", """
        function on_request(h)
          if h:headers():get(":path") == "/deny" then
            h:respond({[":status"] = "403"}, "no\\n")
            return
          end
          h:headers():add("x-greeting", config.greeting or "hello")
        end
        """)
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }

    private func write(_ name: String, _ source: String) throws {
        try folder.write(name, source)
    }

    private func luxy(_ arguments: [String]) throws -> Outcome {
        try folder.luxy(arguments)
    }

    /// `luxy test` with `arguments` exits 0 and reports `count` tests passed and none failed.
    @discardableResult
    private func assertTestsPass(_ arguments: [String], count: Int, file: StaticString = #filePath,
                                 line: UInt = #line) throws -> Outcome {
        let result = try luxy(["test"] + arguments)
        XCTAssertEqual(result.status, 0, result.all, file: file, line: line)
        XCTAssertTrue(result.stdout.contains("\(count) passed, 0 failed"), result.all, file: file, line: line)
        return result
    }

    private let passing = """
    local greet = luxy_test.load("greet", { config = { greeting = "hi" } })
    describe("greet", function()
      it("adds the greeting", function()
        assert.equals("hi", greet:request({ path = "/" }).upstream.headers["x-greeting"])
      end)
      it("answers 403 on /deny", function()
        local result = greet:request({ path = "/deny" })
        assert.equals(403, result.response.status)
        assert.is_nil(result.upstream)
      end)
    end)
    """

    func testPassingTestsPrintOkLinesAndExitZero() throws {
        try write("plugins/greet_test.lua", passing)
        let result = try assertTestsPass(["plugins"], count: 2)
        XCTAssertTrue(result.stdout.contains("ok    plugins/greet_test.lua: greet adds the greeting"), result.all)
        XCTAssertTrue(result.stdout.contains("ok    plugins/greet_test.lua: greet answers 403 on /deny"), result.all)
    }

    func testWithoutAPathItRunsThePluginsFolderBesideTheConfig() throws {
        try write("plugins/greet_test.lua", passing)
        try assertTestsPass([], count: 2)
    }

    /// A plugin with a shared library (`lib/` beside `plugins/`) and JSON, tested offline.
    func testAPluginRequiringALibraryAndJSONIsTestedAsItRuns() throws {
        try FileManager.default.createDirectory(atPath: folder.path + "/lib", withIntermediateDirectories: true)
        try write("lib/greeting.lua", "local M = {}\nfunction M.for_user(name) return \"hello \" .. name end\nreturn M\n")
        try write("plugins/hello.lua", """
        local greeting = require("greeting")
        local cjson = require("cjson")
        function on_request(h)
          local body = h:body()
          local doc = cjson.decode(body:getBytes(0, body:length()))
          h:respond({[":status"] = "200"}, cjson.encode({ message = greeting.for_user(doc.name) }))
        end
        """)
        try write("plugins/hello_test.lua", """
        local hello = luxy_test.load("hello")
        it("greets by name from a JSON body", function()
          local result = hello:request({ method = "POST", body = '{"name":"ada"}' })
          assert.equals('{"message":"hello ada"}', result.response.body)
        end)
        """)
        try assertTestsPass(["plugins/hello_test.lua"], count: 1)
    }

    func testAFailingAssertionNamesItsFileAndLineAndExitsOne() throws {
        try write("plugins/greet_test.lua", """
        local greet = luxy_test.load("greet")
        it("passes", function()
          assert.equals("hello", greet:request({}).upstream.headers["x-greeting"])
        end)
        it("fails", function()
          local result = greet:request({})
          assert.equals("bonjour", result.upstream.headers["x-greeting"])
        end)
        """)
        let result = try luxy(["test", "plugins/greet_test.lua"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stdout.contains(#"FAIL  plugins/greet_test.lua:7: fails: expected "bonjour", got "hello""#),
                      result.all)
        XCTAssertTrue(result.stdout.contains("ok    plugins/greet_test.lua: passes"), result.all)
        XCTAssertTrue(result.stdout.contains("1 passed, 1 failed"), result.all)
    }

    func testAPluginErrorIsAResultWithFileAndLineAndAnErrorInTheTestFailsIt() throws {
        try write("plugins/broken.lua", "function on_request(h)\n  local t = nil\n  return t.x\nend\n")
        try write("plugins/broken_test.lua", """
        local broken = luxy_test.load("broken")
        it("sees the plugin fail", function()
          local result = broken:request({})
          assert.equals(500, result.response.status)
          assert.matches("plugins/broken.lua:3: attempt to index a nil value", result.error)
        end)
        it("fails on an error of its own", function()
          local missing = nil
          missing.field = 1
        end)
        """)
        let result = try luxy(["test", "plugins"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stdout.contains("ok    plugins/broken_test.lua: sees the plugin fail"), result.all)
        XCTAssertTrue(result.stdout.contains("FAIL  plugins/broken_test.lua:9: fails on an error of its own: attempt to index a nil value"),
                      result.all)
    }

    func testAFileThatDoesNotLoadFailsWithItsLine() throws {
        try write("plugins/syntax_test.lua", "it(\"x\", function()\n  local = 1\nend)\n")
        let result = try luxy(["test", "plugins"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stdout.contains("FAIL  plugins/syntax_test.lua:2: (loading the file)"), result.all)
    }

    func testAMissingPathIsAnError() throws {
        let result = try luxy(["test", "nowhere"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("nowhere: no such file or folder"), result.all)
    }

    func testJUnitReportIsWellFormedXMLWithEveryCase() throws {
        try write("plugins/greet_test.lua", passing + """

        it("fails <on purpose> & says so", function()
          assert.is_true(false)
        end)
        """)
        let result = try luxy(["test", "plugins", "--junit", "report.xml"])
        XCTAssertEqual(result.status, 1, result.all)
        let data = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/report.xml"))
        let counter = JUnitCounter()
        let parser = XMLParser(data: data)
        parser.delegate = counter
        XCTAssertTrue(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(counter.testCases, 3)
        XCTAssertEqual(counter.failures, 1)
        XCTAssertEqual(counter.failureMessages.first?.hasPrefix("plugins/greet_test.lua:13: "), true,
                       "\(counter.failureMessages)")
    }

    /// `attemptCount()` is the driver's: 0 when a stage answered or failed before the request
    /// went upstream, 1 once it went (whatever the upstream then did).
    func testAttemptCountIsOneOnlyOnceTheRequestWentUpstream() throws {
        try write("plugins/counted.lua", """
        function on_request(h)
          local path = h:headers():get(":path")
          if path == "/fail" then error("failed on purpose") end
          if path == "/stop" then h:respond({[":status"] = "418"}, "") end
        end

        function on_log(h)
          h:accessLog("attempts", tostring(h:streamInfo():attemptCount()))
        end
        """)
        try write("plugins/counted_test.lua", """
        local counted = luxy_test.load("counted")
        local function attempts(request) return counted:request(request).access_log[1].line end
        describe("attemptCount", function()
          it("is 1 after the upstream answered", function() assert.equals("1", attempts({ path = "/" })) end)
          it("is 1 after the upstream failed", function()
            assert.equals("1", attempts({ path = "/", response = luxy_test.failure("connection refused") }))
          end)
          it("is 0 after a local reply", function() assert.equals("0", attempts({ path = "/stop" })) end)
          it("is 0 after a failing stage", function() assert.equals("0", attempts({ path = "/fail" })) end)
        end)
        """)
        try assertTestsPass(["plugins/counted_test.lua"], count: 4)
    }

    /// A stage with `clear_route_cache: false` changes `:path` without the route being chosen
    /// again, as in the proxy; `clearRouteCache()` still asks for it.
    func testClearRouteCacheOffKeepsTheRoute() throws {
        try write("plugins/rewrite.lua", """
        function on_request(h)
          h:headers():replace(":path", "/rewritten")
          if h:headers():get("x-clear") then h:clearRouteCache() end
        end
        """)
        try write("luxy.yaml", """
        chains:
          inbound-http:
            - name: rewrite
              priority: 100
              clear_route_cache: false
        """)
        try write("plugins/rewrite_test.lua", """
        local chain = luxy_test.chain("../luxy.yaml", "inbound-http")
        describe("clear_route_cache: false", function()
          it("keeps the route on a :path change", function()
            local result = chain:request({ path = "/" })
            assert.equals("/rewritten", result.upstream.path)
            assert.is_false(result.route_cleared)
          end)
          it("still clears it on clearRouteCache()", function()
            assert.is_true(chain:request({ path = "/", headers = { ["x-clear"] = "1" } }).route_cleared)
          end)
        end)
        """)
        try assertTestsPass(["plugins/rewrite_test.lua"], count: 2)
    }

    /// The harness's own rules, written as a plugin test (PluginTestFixtures/harness_test.lua):
    /// chain order and shared metadata, local replies, failures and fail-open, scripted side
    /// calls, the log phase and its response flags, before/after_each, and the tcp rules
    /// (refuse, hold, close).
    func testTheHarnessFollowsTheProxysRules() throws {
        let fixtures = BuiltLuxyBinary.repository.appendingPathComponent("Tests/LuxyIntegrationTests/PluginTestFixtures").path
        let result = try LuxyCommandRunner(workingDirectory: fixtures).run(["test", "harness_test.lua"])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stdout.contains("20 passed, 0 failed"), result.all)
    }

    /// The figure the issue asks for: 100 plugin tests, each file loading a plugin into a VM
    /// of its own and making a request with an `httpCall`, in well under 2 s. Loose here (a
    /// debug build on a shared machine); the real figure is printed.
    func testAHundredPluginTestsRunFast() throws {
        try write("plugins/checked.lua", """
        function on_request(h)
          local headers = h:httpCall("auth", {[":method"] = "GET", [":path"] = "/check", [":authority"] = "auth"}, "", 100)
          h:headers():add("x-auth", headers[":status"])
        end
        """)
        for index in 1...100 {
            try write("plugins/checked\(index)_test.lua", """
            local checked = luxy_test.load("checked")
            it("checks request \(index)", function()
              local result = checked:request({ path = "/\(index)", calls = { auth = { status = 204 } } })
              assert.equals("204", result.upstream.headers["x-auth"])
            end)
            """)
        }
        let started = Date()
        let result = try assertTestsPass(["plugins"], count: 100)
        let wall = Date().timeIntervalSince(started)
        let summary = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        print("luxy test: 100 plugin tests: \(summary); \(String(format: "%.2f", wall)) s with process start")
        XCTAssertLessThan(wall, 10, summary)
    }
}

/// Counts `<testcase>` and `<failure>` elements.
private final class JUnitCounter: NSObject, XMLParserDelegate {
    var testCases = 0
    var failures = 0
    var failureMessages: [String] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if elementName == "testcase" { testCases += 1 }
        if elementName == "failure" {
            failures += 1
            failureMessages.append(attributeDict["message"] ?? "")
        }
    }
}
