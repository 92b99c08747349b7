import XCTest
@testable import LuxyConfig

/// Golden messages: these strings are what users read, so they are pinned exactly.
final class ConfigurationErrorTests: XCTestCase {
    static let file = "/x/luxy.yaml"

    /// A valid http listener + cluster, so each test only adds the flaw it is about.
    static let cluster = """
    clusters:
      - name: backend
        endpoints: ["127.0.0.1:8081"]
    """

    func problems(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try ConfigurationLoader.parse(yaml: yaml, file: Self.file)
            XCTFail("expected a configuration error", file: file, line: line)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    func testYAMLSyntaxError() {
        XCTAssertEqual(problems("listeners:\n  - name: a\n    address: [1\n"), [
            "/x/luxy.yaml:4:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 3, column 14)",
        ])
        XCTAssertEqual(problems("workers: 2\nworkers: 3\n"), ["/x/luxy.yaml:1:1: duplicate key 'workers'"])
    }

    func testUnknownKey() {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:80
            cluster: backend
            timeout: 2s
        \(Self.cluster)
        colour: blue
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:7:5: unknown key 'timeout' in listener",
            "/x/luxy.yaml:11:1: unknown key 'colour' at top level",
        ])
    }

    func testWrongType() {
        let yaml = """
        workers: many
        admin:
          address: ["127.0.0.1", 9901]
        listeners:
          - name: in
            direction: sideways
            protocol: tcp
            address: 127.0.0.1:99999
            cluster: backend
        \(Self.cluster)
            max_idle_connections: "8"
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:1:10: 'workers' must be a positive integer",
            "/x/luxy.yaml:3:12: 'address' must be a string",
            "/x/luxy.yaml:6:16: 'direction' must be one of inbound, outbound",
            "/x/luxy.yaml:8:14: 'address' port must be between 0 and 65535, got 99999",
            "/x/luxy.yaml:13:27: 'max_idle_connections' must be an integer",
        ])
    }

    func testMissingKey() {
        let yaml = """
        listeners:
          - name: in
            protocol: http
            address: 127.0.0.1:80
        clusters:
          - endpoints: ["127.0.0.1:1"]
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:2:5: missing required key 'direction' in listener",
            "/x/luxy.yaml:2:5: missing required key 'virtual_hosts' in http listener",
            "/x/luxy.yaml:6:5: missing required key 'name' in cluster",
        ])
    }

    func testUnknownCluster() {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            virtual_hosts:
              - routes:
                  - name: api
                    cluster: backendd
                  - weighted_clusters: [{name: backend, weight: 1}, {name: nope, weight: 2}]
        \(Self.cluster)
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:9:22: route 'api': unknown cluster 'backendd'",
            "/x/luxy.yaml:10:68: route 'vh0/1': unknown cluster 'nope'",
        ])
    }

    func testUnsupportedUpgradeAndUnderscoreAction() {
        let yaml = """
        limits:
          headers_with_underscores_action: ignore
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            virtual_hosts:
              - routes:
                  - cluster: backend
                    upgrades: [websocket, h2c]
        \(Self.cluster)
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:2:36: 'headers_with_underscores_action' must be one of allow, drop, reject",
            "/x/luxy.yaml:11:23: 'upgrades' can only list websocket; 'h2c' is not supported",
        ])
    }

    func testDuplicateListenerName() {
        let yaml = """
        listeners:
          - {name: in, direction: inbound, protocol: tcp, address: "127.0.0.1:80", cluster: backend}
          - {name: in, direction: inbound, protocol: tcp, address: "127.0.0.1:81", cluster: backend}
          - {name: other, direction: outbound, protocol: tcp, address: "127.0.0.1:80", cluster: backend}
        \(Self.cluster)
          - name: backend
            endpoints: ["127.0.0.1:8082"]
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:3:12: duplicate listener name 'in' (first defined at line 2)",
            "/x/luxy.yaml:4:64: listener 'other': address 127.0.0.1:80 is already used by listener 'in'",
            "/x/luxy.yaml:8:11: duplicate cluster name 'backend' (first defined at line 6)",
        ])
    }

    func testDuplicateStageInChain() {
        let yaml = """
        chains:
          inbound-http:
            - {name: auth, priority: 10}
            - {name: auth, priority: 20}
          outbound-http:
            - {name: auth, priority: 10}
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:4:14: duplicate stage 'auth' in chain 'inbound-http' (first defined at line 3)",
        ])
    }

    func testBadChainName() {
        let yaml = """
        chains:
          inbound-htp:
            - name: auth
          outbound-tcp:
            - name: auth
              priority: high
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:2:3: unknown chain 'inbound-htp'; expected one of inbound-http, inbound-tcp, outbound-http, outbound-tcp",
            "/x/luxy.yaml:6:17: 'priority' must be an integer",
        ])
    }

    func testBadDuration() {
        let yaml = """
        limits:
          drain_timeout: 10 seconds
        \(Self.cluster)
            connect_timeout: 1.5s
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:2:18: 'drain_timeout' must be a duration such as 250ms, 2s or 1m",
            "/x/luxy.yaml:6:22: 'connect_timeout' must be a duration such as 250ms, 2s or 1m",
        ])
    }

    /// A wait bound of zero (or none) is refused: every connection would close at once.
    func testWaitBoundsMustBePositiveDurations() {
        let yaml = """
        limits:
          request_header_timeout: 0s
          request_body_timeout: 0
          send_timeout: soon
          stream_idle_timeout: -1
        \(Self.cluster)
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:2:27: 'request_header_timeout' must be a duration above zero such as 250ms, 2s or 1m",
            "/x/luxy.yaml:3:25: 'request_body_timeout' must be a duration above zero such as 250ms, 2s or 1m",
            "/x/luxy.yaml:4:17: 'send_timeout' must be a duration above zero such as 250ms, 2s or 1m",
            "/x/luxy.yaml:5:24: 'stream_idle_timeout' must be a duration above zero such as 250ms, 2s or 1m",
        ])
    }

    func testBadStatus() {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            virtual_hosts:
              - routes:
                  - direct_response: {status: 700}
                  - direct_response: {body: hi}
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:8:39: 'status' must be between 200 and 599, got 700",
            "/x/luxy.yaml:9:30: missing required key 'status' in direct_response",
        ])
    }

    func testBadRegex() {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            virtual_hosts:
              - routes:
                  - match:
                      regex: "^/v[0-9+/$"
                      headers: [{name: x-a, regex: "(unclosed"}]
                    echo: true
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:9:22: 'regex' must be a valid regular expression, got '^/v[0-9+/$'",
            "/x/luxy.yaml:10:44: 'regex' must be a valid regular expression, got '(unclosed'",
        ])
    }

    func testEveryProblemIsReportedTogetherInFileOrder() {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            virtual_hosts:
              - routes:
                  - name: api
                    cluster: missing
                    echo: true
                  - match: {prefix: api}
        clusters:
          - name: backend
            endpoints: ["127.0.0.1:0"]
            lb_policy: magnet
        chains:
          inbound-http:
            - name: auth
              config: {token: !secret abc}
              fail_open: maybe
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:9:22: route 'api': unknown cluster 'missing'",
            "/x/luxy.yaml:10:13: route 'api': 'echo' conflicts with 'cluster'; a route has exactly one action",
            "/x/luxy.yaml:11:13: route 'vh0/1' needs one of cluster, weighted_clusters, direct_response or echo",
            "/x/luxy.yaml:11:29: 'prefix' must start with '/'",
            "/x/luxy.yaml:14:17: 'endpoint' port must be between 1 and 65535, got 0",
            "/x/luxy.yaml:15:16: 'lb_policy' must be one of round_robin, random, least_request, ring_hash, maglev",
            "/x/luxy.yaml:20:18: 'fail_open' must be true or false",
        ])
    }

    func testListenerKindMismatch() {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 127.0.0.1:80
            cluster: backend
            virtual_hosts: []
          - name: db
            direction: inbound
            protocol: tcp
            address: 127.0.0.1:81
        \(Self.cluster)
        """
        XCTAssertEqual(problems(yaml), [
            "/x/luxy.yaml:6:5: 'cluster' is only for tcp listeners; http listeners route with 'virtual_hosts'",
            "/x/luxy.yaml:7:20: 'virtual_hosts' must have at least one entry",
            "/x/luxy.yaml:8:5: missing required key 'cluster' in tcp listener",
        ])
    }

    func testErrorDescriptionJoinsProblemsByLine() {
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: "workers: 0\nnope: 1\n", file: Self.file)) { error in
            XCTAssertEqual("\(error)", """
            /x/luxy.yaml:1:10: 'workers' must be a positive integer
            /x/luxy.yaml:2:1: unknown key 'nope' at top level
            """)
        }
    }
}
