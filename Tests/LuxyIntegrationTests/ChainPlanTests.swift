import Foundation
import LuxyConfig
import LuxyPlugins
import XCTest

/// How a configuration's stages become the chains' run order and script files. Real files in a
/// temporary folder, the YAML read by the real loader (so locations are real).
final class ChainPlanTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("luxy-plan-\(UUID().uuidString)").path
        for folder in ["plugins", "modules"] {
            try FileManager.default.createDirectory(atPath: "\(directory!)/\(folder)", withIntermediateDirectories: true)
        }
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    private var configFile: String { directory + "/luxy.yaml" }

    /// Writes `luxy.yaml` with the given `chains:` body (indented by two) and the scripts.
    private func load(chains: String, plugins: [String] = [], modules: [String] = []) throws -> LuxyConfiguration {
        for name in plugins {
            try "-- plugin \(name)\n".write(toFile: "\(directory!)/plugins/\(name).lua", atomically: true, encoding: .utf8)
        }
        for name in modules {
            try "-- module \(name)\n".write(toFile: "\(directory!)/modules/\(name).lua", atomically: true, encoding: .utf8)
        }
        let yaml = "plugins_dir: plugins\nmodules_dir: modules\nchains:\n" + chains + "\n"
        try yaml.write(toFile: configFile, atomically: true, encoding: .utf8)
        return try ConfigurationLoader.load(file: configFile)
    }

    func testTheLoadBalancingLineShowsThePolicyOfTheClustersEachChainUses() throws {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:18080
            virtual_hosts:
              - routes:
                  - match: { prefix: / }
                    cluster: api
          - name: db-out
            direction: outbound
            protocol: tcp
            address: 127.0.0.1:15432
            cluster: db
        clusters:
          - name: api
            lb_policy: least_request
            endpoints: ["127.0.0.1:8081"]
            health_checks: [{ tcp: {} }]
          - name: db
            endpoints: ["127.0.0.1:5432"]
            outlier_detection: { enabled: false }
        chains:
          inbound-http: []

        """
        try yaml.write(toFile: configFile, atomically: true, encoding: .utf8)
        let plan = try ChainPlan(configuration: try ConfigurationLoader.load(file: configFile))
        let lines = plan.describe(generation: nil).split(separator: "\n").map(String.init)
        let balancing = lines.filter { $0.contains("load-balancing") }
        XCTAssertEqual(balancing, [
            "  [core]  http-load-balancing (api: least_request, health-checked, outlier-detection)",
            "  [core]  tcp-load-balancing",
            "  [core]  http-load-balancing",
            "  [core]  tcp-load-balancing (db: round_robin)",
        ], lines.joined(separator: "\n"))
    }

    private func names(_ plan: ChainPlan, _ chain: ChainName) -> [String] {
        plan.stages(chain).map(\.name)
    }

    func testPriorityDescendingThenName() throws {
        let configuration = try load(chains: """
          inbound-http:
            - name: c
              priority: 10
            - name: b
              priority: 20
            - name: a
              priority: 10
            - name: z
              priority: -1
            - name: d
        """, plugins: ["a", "b", "c", "d", "z"])
        let plan = try ChainPlan(configuration: configuration)
        XCTAssertEqual(names(plan, .inboundHTTP), ["b", "a", "c", "d", "z"])
        XCTAssertEqual(plan.stages(.inboundHTTP).map(\.priority), [20, 10, 10, 0, -1])
        XCTAssertTrue(plan.stages(.outboundHTTP).isEmpty)
        XCTAssertTrue(plan.stages(.inboundTCP).isEmpty)
        XCTAssertTrue(plan.stages(.outboundTCP).isEmpty)
    }

    func testChainsAreIndependent() throws {
        let configuration = try load(chains: """
          outbound-tcp:
            - name: one
              priority: 1
          inbound-http:
            - name: one
              priority: 5
            - name: two
              priority: 9
          outbound-http:
            - name: two
        """, plugins: ["one", "two"])
        let plan = try ChainPlan(configuration: configuration)
        XCTAssertEqual(names(plan, .inboundHTTP), ["two", "one"])
        XCTAssertEqual(names(plan, .outboundHTTP), ["two"])
        XCTAssertEqual(names(plan, .outboundTCP), ["one"])
        XCTAssertEqual(plan.allStages.map { "\($0.chain.rawValue)/\($0.stage.name)" },
                       ["inbound-http/two", "inbound-http/one", "outbound-http/two", "outbound-tcp/one"])
    }

    func testPluginReplacesModuleOfTheSameName() throws {
        let configuration = try load(chains: """
          inbound-http:
            - name: shared
              priority: 2
            - name: builtin
              priority: 1
        """, plugins: ["shared"], modules: ["shared", "builtin"])
        let plan = try ChainPlan(configuration: configuration)
        let stages = plan.stages(.inboundHTTP)
        XCTAssertEqual(stages.map(\.name), ["shared", "builtin"])
        XCTAssertEqual(stages[0].origin, .plugin)
        XCTAssertEqual(stages[0].displayPath, "plugins/shared.lua")
        XCTAssertEqual(stages[0].path, "\(directory!)/plugins/shared.lua")
        XCTAssertEqual(stages[0].source, "-- plugin shared\n")
        XCTAssertEqual(stages[1].origin, .module)
        XCTAssertEqual(stages[1].displayPath, "modules/builtin.lua")
        XCTAssertEqual(stages[1].path, "\(directory!)/modules/builtin.lua")
        XCTAssertEqual(stages[1].source, "-- module builtin\n")
    }

    func testDisabledStageIsSkipped() throws {
        let configuration = try load(chains: """
          inbound-http:
            - name: on
            - name: off
              priority: 100
              disabled: true
        """, plugins: ["on"])
        // `off` has no file at all: a disabled stage is not even resolved.
        let plan = try ChainPlan(configuration: configuration)
        XCTAssertEqual(names(plan, .inboundHTTP), ["on"])
    }

    func testMissingFileIsAnErrorAtTheConfigLine() throws {
        let configuration = try load(chains: """
          inbound-http:
            - name: present
            - name: absent
              priority: 3
          outbound-http:
            - name: gone
        """, plugins: ["present"])
        XCTAssertThrowsError(try ChainPlan(configuration: configuration)) { error in
            guard let error = error as? ConfigurationError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.problems.count, 2, "every missing file is reported: \(error)")
            let absent = error.problems.first { $0.message.contains("'absent'") }
            XCTAssertEqual(absent?.location?.file, self.configFile)
            XCTAssertEqual(absent?.location?.line, 6)
            XCTAssertTrue(absent?.message.contains("absent.lua") ?? false, "\(error)")
            let gone = error.problems.first { $0.message.contains("'gone'") }
            XCTAssertEqual(gone?.location?.line, 9)
            XCTAssertTrue(error.description.contains("\(self.configFile):6:"), error.description)
        }
    }

    func testDescribeListsChainsWithPrioritiesAndFiles() throws {
        let configuration = try load(chains: """
          inbound-http:
            - name: late
              priority: 1
            - name: early
              priority: 900
              services: [books]
              fail_open: true
        """, plugins: ["late"], modules: ["early"])
        let text = try ChainPlan(configuration: configuration).describe(generation: 3)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "inbound-http  (generation 3)")
        XCTAssertEqual(lines.filter { !$0.hasPrefix(" ") },
                       ["inbound-http  (generation 3)", "inbound-tcp  (generation 3)",
                        "outbound-http  (generation 3)", "outbound-tcp  (generation 3)"])
        let early = try XCTUnwrap(lines.firstIndex { $0.contains("modules/early.lua") })
        let late = try XCTUnwrap(lines.firstIndex { $0.contains("plugins/late.lua") })
        XCTAssertLessThan(early, late)
        XCTAssertEqual(lines[early], "    900   modules/early.lua  services=books  fail-open")
        XCTAssertEqual(lines[late], "      1   plugins/late.lua")
    }
}
