import Foundation
import XCTest

/// `luxy new plugin` as a user runs it: scaffold into a folder, then `luxy check` and
/// `luxy test` pass on what it wrote.
final class NewPluginCommandTests: XCTestCase {
    typealias Outcome = LuxyCommandRunner.Outcome

    private var folder: LuxyCommandFolder!

    override func setUpWithError() throws {
        folder = try LuxyCommandFolder("luxy-new")
        try FileManager.default.removeItem(atPath: folder.path + "/plugins")
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }

    private var directory: String { folder.path }

    private func luxy(_ arguments: [String]) throws -> Outcome {
        try folder.luxy(arguments)
    }

    private func writeConfig(chains: String) throws {
        try """
        # The service's sidecar.
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - match: { prefix: / }
                    echo: true   # the echo answers
        \(chains)
        # the end
        """.write(toFile: directory + "/luxy.yaml", atomically: true, encoding: .utf8)
    }

    private func readConfig() throws -> String {
        try folder.read("luxy.yaml")
    }

    func testScaffoldedHTTPAndTCPPluginsPassCheckAndTest() throws {
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        try "function on_request(h) end\n".write(toFile: directory + "/plugins/first.lua", atomically: true, encoding: .utf8)
        try writeConfig(chains: """
        chains:
          inbound-http:
            # keep this comment
            - name: first
              priority: 100
        """)
        let http = try luxy(["new", "plugin", "my-auth"])
        XCTAssertEqual(http.status, 0, http.all)
        XCTAssertTrue(http.stdout.contains("added 'my-auth' to inbound-http in luxy.yaml at priority 90"), http.all)
        let tcp = try luxy(["new", "plugin", "sniffer", "--tcp"])
        XCTAssertEqual(tcp.status, 0, tcp.all)
        XCTAssertTrue(tcp.stdout.contains("added 'sniffer' to inbound-tcp in luxy.yaml at priority 100"), tcp.all)

        for file in ["my-auth.lua", "my-auth_test.lua", "sniffer.lua", "sniffer_test.lua"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(directory)/plugins/\(file)"), file)
        }
        let yaml = try readConfig()
        for kept in ["# The service's sidecar.", "echo: true   # the echo answers", "    # keep this comment", "# the end"] {
            XCTAssertTrue(yaml.contains(kept), "lost \(kept):\n\(yaml)")
        }
        XCTAssertTrue(yaml.contains("""
            - name: first
              priority: 100
            - name: my-auth
              priority: 90
        """), yaml)

        let check = try luxy(["check"])
        XCTAssertEqual(check.status, 0, check.all)
        XCTAssertTrue(check.stdout.contains("90   plugins/my-auth.lua"), check.all)
        XCTAssertTrue(check.stdout.contains("100   plugins/sniffer.lua"), check.all)
        let test = try luxy(["test"])
        XCTAssertEqual(test.status, 0, test.all)
        XCTAssertTrue(test.stdout.contains("4 passed, 0 failed"), test.all)
    }

    func testItRefusesToOverwrite() throws {
        try writeConfig(chains: "chains: {}")
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        try "-- mine\n".write(toFile: directory + "/plugins/taken.lua", atomically: true, encoding: .utf8)
        let result = try luxy(["new", "plugin", "taken"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("taken.lua exists: not overwritten"), result.all)
        XCTAssertEqual(try String(contentsOfFile: directory + "/plugins/taken.lua", encoding: .utf8), "-- mine\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/plugins/taken_test.lua"))
    }

    func testAFlowStyleChainsBlockIsLeftAloneAndTheSnippetPrinted() throws {
        try writeConfig(chains: "chains: {}")
        let before = try readConfig()
        let result = try luxy(["new", "plugin", "flowy"])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertEqual(try readConfig(), before)
        XCTAssertTrue(result.stdout.contains("luxy.yaml was not changed"), result.all)
        XCTAssertTrue(result.stdout.contains("""
        chains:
          inbound-http:
            - name: flowy
              priority: 100
        """), result.all)
    }

    func testAConfigWithoutChainsGetsAChainsBlock() throws {
        try writeConfig(chains: "")
        let result = try luxy(["new", "plugin", "lonely"])
        XCTAssertEqual(result.status, 0, result.all)
        let yaml = try readConfig()
        XCTAssertTrue(yaml.hasSuffix("# the end\nchains:\n  inbound-http:\n    - name: lonely\n      priority: 100\n      config:\n        header: x-lonely\n        value: \"on\"\n"),
                      yaml)
        XCTAssertEqual(try luxy(["check"]).status, 0)
        XCTAssertEqual(try luxy(["test"]).status, 0)
    }
}
