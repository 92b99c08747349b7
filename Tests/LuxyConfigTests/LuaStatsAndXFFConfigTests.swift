import XCTest
@testable import LuxyConfig

/// `stat_prefix` on stages and `xff_num_trusted_hops` on listeners: read, defaulted, and refused
/// with file:line:column.
final class LuaStatsAndXFFConfigTests: XCTestCase {
    private func config(listenerExtra: String = "", stageExtra: String = "", proto: String = "http") -> String {
        let routing = proto == "http"
            ? "    virtual_hosts:\n      - routes:\n          - match: { prefix: / }\n            cluster: backend"
            : "    cluster: backend"
        return """
        listeners:
          - name: in
            direction: inbound
            protocol: \(proto)
            address: 127.0.0.1:80
        \(listenerExtra)
        \(routing)
        clusters:
          - name: backend
            endpoints: ["127.0.0.1:8081"]
        chains:
          inbound-http:
            - name: auth
        \(stageExtra)
        """
    }

    private func problems(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml, file: "/x/luxy.yaml")
            XCTFail("expected a configuration error", file: file, line: line)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    func testDefaults() throws {
        let configuration = try ConfigurationLoader.parse(yaml: config(), file: "/x/luxy.yaml")
        XCTAssertEqual(configuration.listeners.first?.xffNumTrustedHops, 0)
        let stage = try XCTUnwrap(configuration.chains[.inboundHTTP]?.first)
        XCTAssertNil(stage.statPrefix)
        XCTAssertEqual(stage.effectiveStatPrefix, "auth")
    }

    func testValues() throws {
        let configuration = try ConfigurationLoader.parse(
            yaml: config(listenerExtra: "    xff_num_trusted_hops: 2", stageExtra: "      stat_prefix: edge.auth-v2"),
            file: "/x/luxy.yaml")
        XCTAssertEqual(configuration.listeners.first?.xffNumTrustedHops, 2)
        XCTAssertEqual(configuration.chains[.inboundHTTP]?.first?.effectiveStatPrefix, "edge.auth-v2")
    }

    func testInvalidStatPrefix() {
        for prefix in ["a..b", "\".auth\"", "\"auth.\"", "\"has space\"", "\"\""] {
            XCTAssertEqual(problems(config(stageExtra: "      stat_prefix: \(prefix)")).count, 1, prefix)
        }
        XCTAssertEqual(problems(config(stageExtra: "      stat_prefix: a..b")), [
            "/x/luxy.yaml:17:20: invalid stat_prefix 'a..b'; use words of letters, digits, '_' or '-' separated by single dots",
        ])
        XCTAssertEqual(problems(config(stageExtra: "      stat_prefix: [a]")), ["/x/luxy.yaml:17:20: 'stat_prefix' must be a string"])
    }

    func testInvalidTrustedHops() {
        XCTAssertEqual(problems(config(listenerExtra: "    xff_num_trusted_hops: -1")), [
            "/x/luxy.yaml:6:27: 'xff_num_trusted_hops' must not be negative",
        ])
        XCTAssertEqual(problems(config(listenerExtra: "    xff_num_trusted_hops: two")), [
            "/x/luxy.yaml:6:27: 'xff_num_trusted_hops' must be an integer",
        ])
        XCTAssertEqual(problems(config(listenerExtra: "    xff_num_trusted_hops: 1", proto: "tcp")), [
            "/x/luxy.yaml:6:5: 'xff_num_trusted_hops' is only for http listeners",
        ])
    }
}
