import Foundation
import LuxyTestSupport
import XCTest

/// `luxy check` on configurations that load but cannot work: misspelled entry points, scripts
/// with no entry point for their chain's kind, no listeners, unknown keys, tabs.
final class CheckFindingsCommandTests: CheckCommandTestCase {
    /// An http listener (`inbound`) and a tcp one (`raw`).
    private let listeners = PortZeroEchoConfig.echoListener + """

          - name: raw
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:0
            cluster: backend
        clusters:
          - name: backend
            endpoints: ["127.0.0.1:9"]
        """

    private func check(_ yaml: String, plugins: [String: String] = [:]) throws -> LuxyCommandRunner.Outcome {
        var files = ["luxy.yaml": yaml]
        for (name, source) in plugins { files["plugins/\(name).lua"] = source }
        try folder.write(files)
        return try folder.check()
    }

    func testMisspelledEntryPointIsAWarningWithSuggestion() throws {
        let result = try check(listeners + """

            chains:
              inbound-http:
                - name: typo
            """, plugins: ["typo": "function on_response(h) end\n\nfunction envoy_on_requests(h)\nend\n"])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stderr.contains("warning: \(folder.path)/plugins/typo.lua:3: 'envoy_on_requests' is not an "
            + "entry point, so it is never called (did you mean 'envoy_on_request'?)"), result.all)
    }

    func testScriptWithoutEntryPointForItsChainIsAnError() throws {
        let result = try check(listeners + """

            modules_dir: {{modules}}
            chains:
              inbound-http:
                - name: sniffer
              inbound-tcp:
                - name: access-log
            """, plugins: ["sniffer": "function on_downstream_data(conn, data) return data end\n"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("error: \(folder.path)/luxy.yaml:22:7: stage 'sniffer' in inbound-http: "
            + "\(folder.path)/plugins/sniffer.lua defines none of on_request, on_response, envoy_on_request, "
            + "envoy_on_response, on_log (it defines only tcp entry points), so it never runs"), result.all)
        XCTAssertTrue(result.stderr.contains("stage 'access-log' in inbound-tcp: \(TestProxy.repositoryModules)/access-log.lua "
            + "defines none of on_connect"), result.all)
        XCTAssertTrue(result.stderr.contains("(it defines only HTTP entry points)"), result.all)
        XCTAssertFalse(result.stdout.contains(": ok"), result.all)
    }

    func testNoListenersIsAWarning() throws {
        let result = try check("workers: 1\n")
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stderr.contains("warning: \(folder.path)/luxy.yaml:1: no listeners"), result.all)
    }

    func testUnknownKeySuggestsTheNearestOne() throws {
        let result = try check(listeners + "\nplugin_dir: plugins\n")
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("luxy.yaml:19:1: unknown key 'plugin_dir' at top level "
            + "(did you mean 'plugins_dir'?)"), result.all)
    }

    func testTabIndentationGetsItsOwnMessage() throws {
        let result = try check("listeners:\n  - name: web\n\tdirection: inbound\n")
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("\(folder.path)/luxy.yaml:3:1: tabs are not allowed for indentation in YAML"),
                      result.all)
    }
}
