import Foundation
import LuxyTestSupport
import XCTest

/// `modules/logging-http.lua` and the log phase under it: every request gets exactly one line,
/// with the response flag that says why it ended as it did.
final class LoggingHTTPTests: AccessLogTestCase {
    /// Fails `/fail` with a Lua error and answers `/local` itself; every other request passes.
    private let gatekeeper = """
        function on_request(h)
          local path = h:headers():get(":path")
          if path == "/fail" then error("gatekeeper refuses") end
          if path == "/local" then h:respond({[":status"] = "403"}, "no") end
        end
        """

    private func config(format: String) -> String {
        standardConfig(inboundStages: """
            - name: logging-http
              priority: 1000
              config: { destination: "\(log.path)", \(format) }
            - name: gatekeeper
              priority: 10
        """, routes: """
                  - name: dead
                    match: { prefix: /dead }
                    cluster: dead
        """, cluster: """
          - name: dead
            endpoints: ["127.0.0.1:1"]
            connect_timeout: 500ms
        """, workers: 1)
    }

    private func lines() -> [String] { log.lines }

    private func waitForLines(_ count: Int) async throws -> [String] {
        try await eventually("\(count) access-log lines") { lines().count >= count }
        return lines()
    }

    func testEveryRequestGetsOneJSONLineWithItsResponseFlag() async throws {
        let proxy = try await startProxy(config(format: "format: json"), plugins: ["gatekeeper": gatekeeper])
        let client = try await connect(proxy)
        let cases: [(path: String, status: Int, flags: String)] = [
            ("/ok", 200, "-"), ("/local", 403, "LR"), ("/fail", 500, "PF"), ("/dead", 503, "UF"),
            ("/nowhere-else", 200, "-"),
        ]
        for (path, status, _) in cases {
            let response = try await client.request("GET", path)
            XCTAssertEqual(response.status, status, path)
        }
        // A client that leaves while the upstream holds its request.
        let leaving = try await connect(proxy)
        try await leaving.send("GET /hold HTTP/1.1\r\nhost: x\r\n\r\n")
        try await eventually("the request to reach the upstream") { upstream.heldCount == 1 }
        await leaving.close()

        let written = try await waitForLines(cases.count + 1)
        XCTAssertEqual(written.count, cases.count + 1, written.joined(separator: "\n"))
        let entries = try written.map { line -> [String: Any] in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try XCTUnwrap(object as? [String: Any], line)
        }
        for ((path, status, flags), entry) in zip(cases, entries) {
            XCTAssertEqual(entry["path"] as? String, path)
            XCTAssertEqual(entry["response_code"] as? Int, status, path)
            XCTAssertEqual(entry["response_flags"] as? String, flags, path)
            XCTAssertEqual(entry["method"] as? String, "GET", path)
        }
        let aborted = entries[cases.count]
        XCTAssertEqual(aborted["path"] as? String, "/hold")
        XCTAssertEqual(aborted["response_flags"] as? String, "DC")
        XCTAssertEqual(aborted["response_code"] as? Int, 0, "nothing was sent")
        XCTAssertEqual(entries[0]["route"] as? String, "backend")
        XCTAssertEqual(entries[0]["upstream_host"] as? String, upstream.address)
        XCTAssertGreaterThan(entries[0]["bytes_sent"] as? Int ?? 0, 0)
        XCTAssertNotNil((entries[0]["start_time"] as? String)?.range(
            of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression))
        upstream.releaseHeld()
    }

    /// Two destinations written by one loop: each keeps its own lines, in order, none lost or
    /// crossed, with requests pipelined four at a time.
    func testTwoDestinationsOnOneLoopEachGetTheirOwnLines() async throws {
        let other = ScratchAccessLog()
        defer { other.remove() }
        let writer = { (path: String, tag: String) in
            """
            function on_log(h)
              h:accessLog("\(path)", "\(tag) " .. h:requestHeaders():get(":path"))
            end
            """
        }
        let config = standardConfig(inboundStages: """
            - { name: first-log, priority: 20 }
            - { name: second-log, priority: 10 }
        """, workers: 1)
        let proxy = try await startProxy(config, plugins: [
            "first-log": writer(log.path, "a"), "second-log": writer(other.path, "b"),
        ])
        let client = try await connect(proxy)
        var expected: [String] = []
        for round in 0..<4 {
            // Four pipelined requests at once, so one tick may end several exchanges.
            let paths = (0..<4).map { "/r\(round)-\($0)" }
            try await client.send(paths.map { "GET \($0) HTTP/1.1\r\nhost: x\r\n\r\n" }.joined())
            for path in paths {
                let response = try await client.readResponse()
                XCTAssertEqual(response.status, 200, path)
            }
            expected += paths
        }
        try await eventually("every line in both logs") {
            log.lines.count >= expected.count && other.lines.count >= expected.count
        }
        XCTAssertEqual(log.lines, expected.map { "a \($0)" })
        XCTAssertEqual(other.lines, expected.map { "b \($0)" })
    }

    func testTextFormatWithEnvoyOperators() async throws {
        let format = #"format: text, text_format: "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS% %RESP(CONTENT-TYPE)% %REQ(USER-AGENT):3% %ROUTE_NAME%""#
        let proxy = try await startProxy(config(format: format), plugins: ["gatekeeper": gatekeeper])
        let client = try await connect(proxy)
        _ = try await client.request("POST", "/local", headers: [("user-agent", "curl/8")])
        _ = try await client.request("GET", "/x", headers: [("x-envoy-original-path", "/original")])
        let written = try await waitForLines(2)
        XCTAssertEqual(written[0], "POST /local HTTP/1.1 403 LR - cur backend")
        XCTAssertTrue(written[1].hasPrefix("GET /original HTTP/1.1 200 - "), written[1])
    }

    func testAnUnknownOperatorIsALoadError() async throws {
        let yaml = config(format: #"format: text, text_format: "%NO_SUCH_THING%""#)
        do {
            _ = try await startProxy(yaml, plugins: ["gatekeeper": gatekeeper])
            XCTFail("an unknown operator must refuse the configuration")
        } catch {
            XCTAssertTrue("\(error)".contains("unknown operator %NO_SUCH_THING%"), "\(error)")
        }
    }

    /// `luxy run` with logging-http (JSON lines on stdout) and `moreStages` in its inbound
    /// chain, its standard output in a file of its own, once it says it runs.
    private func runLoggingToStandardOutput(moreStages: String = "", plugins: [String: String] = [:]) async throws
        -> ChildWithStandardOutput {
        let standardOutput = FileManager.default.temporaryDirectory
            .appendingPathComponent("luxy-stdout-\(UUID().uuidString)").path
        let yaml = standardConfig(inboundStages: """
            - name: logging-http
              priority: 1000
        """ + (moreStages.isEmpty ? "" : "\n" + moreStages), workers: 2)
        let started = ChildWithStandardOutput(
            luxy: try await LuxyChildProcess(yaml: yaml, plugins: plugins, standardOutput: standardOutput, group: group),
            standardOutputPath: standardOutput)
        let luxy = started.luxy
        let running = await waitUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
            luxy.logText.contains("luxy running") || !luxy.process.isRunning
        }
        XCTAssertTrue(luxy.process.isRunning, "luxy exited early: \(luxy.logText)")
        guard running else {
            started.remove()
            throw XCTSkip("luxy did not start in time")
        }
        return started
    }

    /// `luxy run` with the access log on stdout: standard output carries nothing but JSON
    /// lines, one per request (failed ones included), while the operational log goes to stderr.
    func testStandardOutputIsAPureStreamOfJSONLines() async throws {
        let running = try await runLoggingToStandardOutput(moreStages: """
            - name: gatekeeper
              priority: 10
        """, plugins: ["gatekeeper": gatekeeper])
        defer { running.remove() }
        let child = running.luxy
        let paths = ["/a", "/fail", "/local", "/b", "/fail"]
        for path in paths {
            let client = try await TestHTTPConnection.connect(port: child.proxyPort, group: group)
            _ = try await client.request("GET", path)
            await client.close()
        }
        func output() -> [String] {
            running.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        try await eventually("one line per request on stdout") { output().filter { !$0.isEmpty }.count >= paths.count }
        let lines = output()
        XCTAssertEqual(lines.last, "", "the stream ends with a complete line")
        let entries = try lines.dropLast().map { line -> [String: Any] in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            return try XCTUnwrap(object as? [String: Any], "not a JSON line on stdout: \(line)")
        }
        XCTAssertEqual(entries.count, paths.count)
        XCTAssertEqual(Set(entries.compactMap { $0["path"] as? String }), Set(paths))
        XCTAssertEqual(entries.filter { $0["response_flags"] as? String == "PF" }.count, 2)
        XCTAssertTrue(child.logText.contains("plugin failed"), "the failure is in the operational log")
        XCTAssertFalse(child.logText.contains("\"response_flags\""), "no access-log line on stderr")
    }

    /// The access-log writer gathers lines for a few milliseconds before it writes them: a
    /// SIGTERM right after the last responses still finds every request's line on stdout
    /// once the process has exited (the stop writes what the writer still holds).
    func testTheLastRequestsKeepTheirLinesWhenTheProcessStops() async throws {
        let running = try await runLoggingToStandardOutput()
        defer { running.remove() }
        let child = running.luxy
        let paths = (1...40).map { "/last/\($0)" }
        let client = try await TestHTTPConnection.connect(port: child.proxyPort, group: group)
        for path in paths { _ = try await client.request("GET", path) }
        await client.close()
        kill(child.process.processIdentifier, SIGTERM)
        let exited = await child.waitForExit(within: .seconds(15))
        XCTAssertTrue(exited, "luxy did not exit: \(child.logText)")
        guard exited else { return }
        XCTAssertEqual(child.process.terminationStatus, 0, child.logText)
        let logged = running.standardOutput.split(separator: "\n").compactMap { line -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8))
            return (object as? [String: Any])?["path"] as? String
        }
        XCTAssertEqual(logged.sorted(), paths.sorted(), "one line per request, none lost at the stop")
    }

    /// `collector:` sends the lines in batches to a cluster, from a timer.
    func testLinesGoToAnHTTPCollectorInBatches() async throws {
        let collector = try await FakeUpstream.start(name: "logs", group: group)
        defer { Task { await collector.stop() } }
        let yaml = standardConfig(inboundStages: """
            - name: logging-http
              priority: 1000
              config: { collector: { cluster: logs, path: /ingest, flush_interval: 0.05 } }
            - name: gatekeeper
              priority: 10
        """, cluster: """
          - name: logs
            endpoints: ["\(collector.address)"]
        """, workers: 1)
        let proxy = try await startProxy(yaml, plugins: ["gatekeeper": gatekeeper])
        let client = try await connect(proxy)
        for path in ["/one", "/fail", "/local"] { _ = try await client.request("GET", path) }
        func lines() -> [String] {
            collector.received.filter { $0.head.uri == "/ingest" }.flatMap { $0.body.split(separator: "\n").map(String.init) }
        }
        try await eventually("three lines at the collector") { lines().count >= 3 }
        let received = lines()
        XCTAssertEqual(received.count, 3)
        let flags = try received.map { line -> String in
            let entry = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
            return "\(entry["path"] ?? "") \(entry["response_flags"] ?? "")"
        }
        XCTAssertEqual(flags, ["/one -", "/fail PF", "/local LR"])
        XCTAssertEqual(collector.received.first { $0.head.uri == "/ingest" }?.head.headers.first(name: "content-type"),
                       "application/x-ndjson")
    }

    /// The log phase sees the request as it went upstream, as Envoy's access log sees the
    /// forwarding fields its connection manager sets: the peer appended to `x-forwarded-for`,
    /// `x-forwarded-proto` set, hop-by-hop fields gone. Trusted hops still name the client the
    /// request came for: the core read them when the request arrived, before the proxy's own
    /// entry was appended.
    func testTheLogPhaseSeesTheRequestAsItWentUpstream() async throws {
        let late = """
            function on_log(h)
              local request = h:requestHeaders()
              h:accessLog("\(log.path)", table.concat({
                h:streamInfo():downstreamRemoteAddress(), request:get("x-forwarded-for") or "-",
                request:get("x-forwarded-proto") or "-", request:get("keep-alive") or "-"}, "|"))
            end
            """
        let yaml = standardConfig(inboundStages: "    - { name: late, priority: 10 }", workers: 1)
            .replacingOccurrences(of: "    address: 127.0.0.1:0\n",
                                  with: "    address: 127.0.0.1:0\n    xff_num_trusted_hops: 1\n")
        let proxy = try await startProxy(yaml, plugins: ["late": late])
        let client = try await connect(proxy)
        // Twice on one connection: the second request is prepared afresh, appended to once.
        for _ in 0..<2 {
            let response = try await client.request("GET", "/books", headers: [
                ("x-forwarded-for", "203.0.113.9"), ("keep-alive", "timeout=5")])
            XCTAssertEqual(response.status, 200)
            let sent = try XCTUnwrap(upstream.received.last?.head.headers)
            XCTAssertEqual(sent["x-forwarded-for"], ["203.0.113.9, 127.0.0.1"])
            XCTAssertFalse(sent.contains(name: "keep-alive"))
        }
        let written = try await waitForLines(2)
        XCTAssertEqual(written, Array(repeating: "203.0.113.9:0|203.0.113.9, 127.0.0.1|http|-", count: 2))
    }

    /// A log phase that runs past its slice of the budget goes on later, after the client
    /// closed the connection: it still ends, writes its line, and lets its generation retire.
    func testALogPhaseThatOutlivesItsConnectionStillEnds() async throws {
        let slow = """
            function on_log(h)
              local n = 0
              for i = 1, 3000 do n = n + i end   -- several slices of 1,000 instructions
              h:accessLog("\(log.path)", "done " .. n .. " " .. h:streamInfo():responseFlags())
            end
            """
        let yaml = standardConfig(inboundStages: "    - { name: slow, priority: 10 }",
                                  limits: "limits: { lua_instruction_slice: 1000 }", workers: 1)
        let proxy = try await startProxy(yaml, plugins: ["slow": slow])
        let client = try await connect(proxy)
        try await client.send("GET /echo/x HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200)
        await client.close()
        let written = try await waitForLines(1)
        XCTAssertEqual(written, ["done 4501500 -"])
        try proxy.writePlugin("slow", slow + "-- v2\n")
        _ = try await proxy.runtime.reload()
        try await eventually("the first generation to retire") { await proxy.server.retiredGenerations() == 0 }
    }
}

/// A `luxy run` child whose standard output goes to a file of its own.
private struct ChildWithStandardOutput {
    let luxy: LuxyChildProcess
    let standardOutputPath: String

    /// What the child wrote to its standard output so far.
    var standardOutput: String { (try? String(contentsOfFile: standardOutputPath, encoding: .utf8)) ?? "" }

    /// Stops the child and removes its folder and its output.
    func remove() {
        luxy.remove()
        try? FileManager.default.removeItem(atPath: standardOutputPath)
    }
}
