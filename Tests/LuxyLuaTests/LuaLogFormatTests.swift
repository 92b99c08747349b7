import XCTest

@testable import LuxyLua

/// `luxy.log_format`: Envoy's access-log operators compiled once, rendered per request from
/// what the host reports, as a text line or one JSON object.
final class LuaLogFormatTests: LuaTestCase {
    /// Runs `body` in the log phase of a script whose top level is `top`; Lua asserts check.
    private func checkLog(top: String, _ body: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let script = try load("\(top)\nfunction on_log(h)\n\(body)\nend")
        assertCompleted(run(script, .log), file: file, line: line)
    }

    /// `luxy.log_format(format)` made at load, rendered in the log phase: the line must be
    /// `expected` (both Lua expressions).
    private func checkRendered(_ format: String, _ expected: String, file: StaticString = #filePath,
                               line: UInt = #line) throws {
        try checkLog(top: "local f = luxy.log_format(\(format))",
                     "local line = f:render(h)\nassert(line == \(expected), line)", file: file, line: line)
    }

    override func setUp() {
        super.setUp()
        host.requestOutcome = LuaRequestOutcome(responseCode: 503, responseFlags: "UF", bytesReceived: 5, bytesSent: 91,
                                                durationMilliseconds: 12.9, startTimeMilliseconds: 1_700_000_000_123)
    }

    func testTextFormatPrintsEachOperatorAndAnAbsentValueAsADash() throws {
        host.upstreamTarget = nil
        try checkRendered(
            #"'[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %UPSTREAM_HOST% %ROUTE_NAME% %UPSTREAM_CLUSTER% %SERVICE% %DIRECTION% %DOWNSTREAM_REMOTE_ADDRESS% 100%'"#,
            #"'[2023-11-14T22:13:20.123Z] "GET /items HTTP/2" 503 UF 5 91 12 - items-route items-cluster items inbound 10.0.0.2:5555 100%'"#)
    }

    func testHeaderOperatorsTakeTheAlternativeAndALengthLimit() throws {
        try checkRendered("'%REQ(X-MISSING?:authority)% %REQ(CONTENT-TYPE):4% %RESP(SERVER)% %REQ(X-MULTI)% %RESP(X-NONE)%'",
                          "'svc text upstream a,b -'")
    }

    func testJSONFieldsKeepTheirOrderTypesAndEscapes() throws {
        host.requestHeaders = FakeHeaderMap([(":method", "GET"), ("user-agent", "say \"hi\" \\ \t\u{1}")])
        host.routeName = nil
        try checkLog(top: """
            local f = luxy.log_format({
              { "code", "%RESPONSE_CODE%" }, { "agent", "%REQ(USER-AGENT)%" }, { "route", "%ROUTE_NAME%" },
              { "mixed", "%REQ(:METHOD)% took %DURATION% ms %ROUTE_NAME%" }, { "time", "%START_TIME%" },
            })
            """, #"""
            local line = f:render(h)
            local want = '{"code":503,"agent":"say \\"hi\\" \\\\ \\t\\u0001","route":null,"mixed":"GET took 12 ms -","time":"2023-11-14T22:13:20.123Z"}'
            assert(line == want, line)
            """#)
    }

    func testAJSONMapIsInKeyOrder() throws {
        try checkRendered(#"{ z = "%BYTES_SENT%", a = "%BYTES_RECEIVED%", m = "flags %RESPONSE_FLAGS%" }"#,
                          #"'{"a":5,"m":"flags UF","z":91}'"#)
    }

    func testAnUnknownOperatorRefusesTheScriptAtLoad() {
        XCTAssertThrowsError(try load("local f = luxy.log_format('%NOT_AN_OPERATOR% and more')")) { error in
            XCTAssertTrue("\(error)".contains("luxy.log_format: unknown operator %NOT_AN_OPERATOR% in the format"), "\(error)")
        }
        XCTAssertThrowsError(try load("local f = luxy.log_format('%REQ(X):many%')")) { error in
            XCTAssertTrue("\(error)".contains("unknown operator %REQ(X):many%"), "\(error)")
        }
    }

    func testRenderWantsTheRunningRequestsHandle() throws {
        let script = try load("""
            local f = luxy.log_format('%RESPONSE_CODE%')
            kept = nil
            function on_log(h)
              if kept then return f:render(kept) end
              kept = h
              local ok, err = pcall(f.render, f, {})
              assert(not ok and err:find("must be a request's handle"), err)
            end
            """)
        assertCompleted(run(script, .log))
        // The next request: the handle of the one before is out of its scope.
        let error = failure(run(script, .log))
        XCTAssertTrue(error?.message.contains("outside of its request") ?? false, error?.message ?? "")
    }

    /// `h:accessLog(destination, format)` writes the line `format:render(h)` gives, rendered
    /// into the log without a Lua string in between; a string still works, anything else raises.
    func testAccessLogTakesTheFormatItselfOrAString() throws {
        try checkLog(top: """
            local f = luxy.log_format({ { "code", "%RESPONSE_CODE%" }, { "flags", "%RESPONSE_FLAGS%" } })
            """, """
            h:accessLog('stdout', f)
            h:accessLog('/var/log/access.log', f:render(h))
            local ok, err = pcall(h.accessLog, h, 'stdout', {})
            assert(not ok and err:find('string or log format expected, got table'), err)
            """)
        XCTAssertEqual(host.accessLines.map(\.destination), ["stdout", "/var/log/access.log"])
        XCTAssertEqual(host.accessLines.map(\.line), [#"{"code":503,"flags":"UF"}"#, #"{"code":503,"flags":"UF"}"#])
    }

    /// Each format lives as long as its VM, so one made per request would pile up: only a
    /// script's top-level code makes them.
    func testAFormatIsMadeAtTopLevelOnly() throws {
        try checkLog(top: "", """
            local ok, err = pcall(luxy.log_format, '%RESPONSE_CODE%')
            assert(not ok and err:find('formats are made by a script', 1, true) and err:find('top%-level code'), err)
            """)
    }

    /// `%REQ(X):N%` cuts at N bytes, back to the start of a character cut in two, never past N.
    func testALengthLimitNeverCutsACharacterInTwo() throws {
        host.requestHeaders = FakeHeaderMap([("x-name", "ab\u{e9}\u{e9}")])  // é is two bytes
        try checkRendered("'%REQ(X-NAME):3%|%REQ(X-NAME):4%'", "'ab|ab\u{e9}'")
    }

    /// Literal text in a JSON field is escaped (once, at compile), and a boolean in a field
    /// list is its text, as `tostring` made it for logging-http's `json_format`.
    func testJSONLiteralsAreEscapedAndBooleansAreText() throws {
        try checkRendered(#"{ { "q", 'say "%RESPONSE_CODE%"' }, { "b", true } }"#, #"[[{"q":"say \"503\"","b":"true"}]]"#)
    }
}
