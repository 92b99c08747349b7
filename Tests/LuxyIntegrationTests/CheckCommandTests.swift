import Foundation
import LuxyTestSupport
import XCTest

/// `luxy check` as a user runs it: the built binary in a subprocess.
final class CheckCommandTests: CheckCommandTestCase {
    typealias Outcome = LuxyCommandRunner.Outcome

    private var directory: String! { folder.path }

    private var configFile: String { directory + "/luxy.yaml" }

    private func write(yaml: String, plugins: [String: String] = [:]) throws {
        var files = ["luxy.yaml": yaml]
        for (name, source) in plugins { files["plugins/\(name).lua"] = source }
        try folder.write(files)
    }

    /// Runs `luxy ARGS` in the test's folder, bounded to 30 s.
    private func luxy(_ arguments: [String]) throws -> Outcome {
        try folder.luxy(arguments)
    }

    private func check() throws -> Outcome {
        try luxy(["check", "--config", configFile])
    }

    /// A valid config whose `chains:` block is `chains` (already indented by two).
    private func config(chains: String) -> String {
        """
        modules_dir: {{modules}}
        \(PortZeroEchoConfig.echoListener)
        chains:
        \(chains)
        """
    }

    func testValidConfigPrintsTheFourChainsInOrder() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: low
              priority: 5
            - name: request-id
              priority: 300
            - name: beta
              priority: 100
            - name: alpha
              priority: 100
          outbound-http:
            - name: out
              priority: 42
        """), plugins: [
            "low": "function on_request(h) end\n",
            "beta": "function on_request(h) end\n",
            "alpha": "function on_response(h) end\n",
            "out": "function on_request(h) end\n",
        ])
        let result = try check()
        XCTAssertEqual(result.status, 0, result.all)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func index(_ text: String) -> Int? { lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == text } }

        let chainLines = ["inbound-http", "inbound-tcp", "outbound-http", "outbound-tcp"].map(index)
        XCTAssertFalse(chainLines.contains(nil), result.stdout)
        XCTAssertEqual(chainLines.compactMap { $0 }, chainLines.compactMap { $0 }.sorted(), result.stdout)

        let stageLines = ["300   modules/request-id.lua", "100   plugins/alpha.lua", "100   plugins/beta.lua",
                          "5   plugins/low.lua"].map(index)
        XCTAssertFalse(stageLines.contains(nil), result.stdout)
        let stageIndexes = stageLines.compactMap { $0 }
        XCTAssertEqual(stageIndexes, stageIndexes.sorted(), "run order: priority descending, ties by name\n\(result.stdout)")
        if let first = stageIndexes.first, let last = stageIndexes.last, let inbound = chainLines[0],
           let inboundTCP = chainLines[1] {
            XCTAssertTrue(inbound < first && last < inboundTCP, "stages listed under inbound-http\n\(result.stdout)")
        }
        let out = index("42   plugins/out.lua")
        XCTAssertNotNil(out, result.stdout)
        if let out, let outbound = chainLines[2], let outboundTCP = chainLines[3] {
            XCTAssertTrue(outbound < out && out < outboundTCP, result.stdout)
        }
        XCTAssertTrue(result.stdout.contains("\(configFile): ok"), result.stdout)
    }

    func testYAMLErrorNamesFileLineAndColumn() throws {
        try write(yaml: """
        listeners:
          - name: inbound
            direction: [inbound
        clusters: []
        """)
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        let pattern = NSRegularExpression.escapedPattern(for: configFile) + ":[0-9]+:[0-9]+: .+"
        XCTAssertNotNil(result.stderr.range(of: pattern, options: .regularExpression),
                        "expected file:line:col: message, got:\n\(result.all)")
    }

    func testSchemaErrorNamesTheLine() throws {
        try write(yaml: """
        workers: 2
        bogus_key: 1
        """)
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(configFile):2:1: "), result.all)
    }

    /// A script's `schema` checks the stage's YAML `config:`: every broken rule is reported at
    /// the line and column of the value that breaks it (or of the mapping missing a key).
    func testConfigAgainstTheScriptSchemaNamesTheYAMLValue() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: limited
              config:
                rate: ten
                mode: fast
                header: ""
                keys: [a, 7]
                colour: red
        """), plugins: ["limited": """
            schema = {
              type = "object",
              required = { "rate", "burst" },
              properties = {
                rate = { type = "number", minimum = 1 },
                burst = { type = "integer" },
                mode = { type = "string", enum = { "local", "shared" }, default = "local" },
                header = { type = "string", minLength = 1 },
                keys = { type = "array", items = { type = "string" } },
              },
            }
            local rate = config.rate + 1   -- what the bad config would break: the schema speaks first
            function on_request(h) end
            """])
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        let expected = [
            "\(configFile):16:15: stage 'limited' config.rate: \"ten\" is not a number (type = \"number\")",
            "\(configFile):17:15: stage 'limited' config.mode: \"fast\" is not one of \"local\", \"shared\" (enum)",
            "\(configFile):18:17: stage 'limited' config.header: a string of 0 characters, shorter than 1 (minLength)",
            "\(configFile):19:19: stage 'limited' config.keys[2]: 7 is not a string (type = \"string\")",
            "\(configFile):20:17: stage 'limited' config.colour: unknown key 'colour'",
            "\(configFile):16:9: stage 'limited' config: 'burst' is required (required)",
        ]
        for line in expected {
            XCTAssertTrue(result.stderr.contains(line), "missing: \(line)\n\(result.all)")
        }
        XCTAssertTrue(result.stderr.contains("by the schema of plugins/limited.lua"), result.all)
        XCTAssertFalse(result.stderr.contains("attempt to perform arithmetic"), "the schema errors come alone\n\(result.all)")
    }

    /// examples/observability uses every built-in module with its schema; the print shows
    /// them in place.
    func testObservabilityExampleChecks() throws {
        let example = BuiltLuxyBinary.repository.path + "/examples/observability/luxy.yaml"
        let result = try luxy(["check", "--config", example])
        XCTAssertEqual(result.status, 0, result.all)
        for line in ["1010   modules/metrics-http.lua", "1000   modules/logging-http.lua", "950   modules/throttle-route.lua",
                     "900   modules/tracing-http.lua", "150   modules/request-id.lua"] {
            XCTAssertTrue(result.stdout.contains(line), "\(line)\n\(result.stdout)")
        }
    }

    /// A plugin named like a built-in module replaces it, schema and all.
    func testAPluginReplacesTheModuleOfItsName() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: logging-http
              config: { mine: true }
        """), plugins: ["logging-http": "schema = { properties = { mine = { type = \"boolean\" } } }\nfunction on_log(h) end\n"])
        let result = try check()
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stdout.contains("0   plugins/logging-http.lua"), result.stdout)
        XCTAssertFalse(result.stdout.contains("modules/logging-http.lua"), result.stdout)
    }

    func testMalformedSchemaNamesTheScript() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: odd
        """), plugins: ["odd": "schema = { type = \"object\", properties = { n = { type = \"float\" } } }\n"])
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(directory!)/plugins/odd.lua: invalid schema: schema.properties.n.type: unknown type 'float'"),
                      result.all)
    }

    func testLuaSyntaxErrorNamesTheAbsoluteScriptPathAndLine() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: broken
        """), plugins: ["broken": "-- a comment\nfunction on_request(h)\n  h:headers(:add()\nend\n"])
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(directory!)/plugins/broken.lua:3:"), result.all)
    }

    func testScriptOverTheSizeLimitNamesTheStageAndTheLimit() throws {
        let big = "function on_request(h) end\n" + String(repeating: "-- padding to make the file large\n", count: 40_000)
        try write(yaml: "limits:\n  lua_max_script_bytes: 1048576\n" + config(chains: """
          inbound-http:
            - name: huge
        """), plugins: ["huge": big])
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(configFile):16:"), result.all)
        XCTAssertTrue(result.stderr.contains(
            "stage 'huge': \(directory!)/plugins/huge.lua is \(big.utf8.count) bytes, over limits.lua_max_script_bytes (1048576)"),
                      result.all)
    }

    func testScriptThatNeedsMoreThanTheMemoryCapToLoadIsAnErrorNotACrash() throws {
        var big = "local t = {\n"
        for i in 0..<20_000 { big += "  'constant number \(i)',\n" }
        big += "}\nfunction on_request(h) end\n"
        try write(yaml: "limits:\n  lua_memory_bytes: 204800\n" + config(chains: """
          inbound-http:
            - name: hungry
        """), plugins: ["hungry": big])
        let result = try check()
        XCTAssertEqual(result.status, 1, "an error exit, not a signal: \(result.all)")
        XCTAssertTrue(result.stderr.contains(
            "\(directory!)/plugins/hungry.lua: not enough memory to load the script (limits.lua_memory_bytes is 204800"),
                      result.all)
    }

    func testUnknownStageNamesTheConfigLine() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: nowhere-to-be-found
        """))
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        // `- name:` is on line 14 of the file.
        XCTAssertEqual(try XCTUnwrap(lineNumber(of: "- name: nowhere-to-be-found")), 14)
        XCTAssertTrue(result.stderr.contains("\(configFile):14:"), result.all)
        XCTAssertTrue(result.stderr.contains("nowhere-to-be-found"), result.all)
    }

    func testTopLevelRuntimeErrorNamesScriptAndLine() throws {
        try write(yaml: config(chains: """
          outbound-http:
            - name: explodes
        """), plugins: ["explodes": "local x = 1\nerror('boom at load time')\nfunction on_request(h) end\n"])
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(directory!)/plugins/explodes.lua:2:"), result.all)
        XCTAssertTrue(result.stderr.contains("boom at load time"), result.all)
    }

    func testEveryMissingStageIsReportedAtOnce() throws {
        try write(yaml: config(chains: """
          inbound-http:
            - name: missing-one
            - name: missing-two
        """))
        let result = try check()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(configFile):14:"), result.all)
        XCTAssertTrue(result.stderr.contains("missing-one"), result.all)
        XCTAssertTrue(result.stderr.contains("\(configFile):15:"), result.all)
        XCTAssertTrue(result.stderr.contains("missing-two"), result.all)
    }

    private func lineNumber(of text: String) -> Int? {
        guard let yaml = try? String(contentsOfFile: configFile, encoding: .utf8) else { return nil }
        return yaml.components(separatedBy: "\n").firstIndex { $0.contains(text) }.map { $0 + 1 }
    }
}
