import LuxyTestSupport
import XCTest

/// Shared set-up of the tests that need fake upstreams besides `backend` (stopped after the
/// test): the retry, circuit-breaker and chaos tests, and those whose plugins call a side
/// service; and a config with one cluster of several endpoints behind one route.
class ResilienceTestCase: IntegrationTestCase {
    private var extraUpstreams: [FakeUpstream] = []

    override func tearDown() async throws {
        for upstream in extraUpstreams { await upstream.stop() }
        extraUpstreams.removeAll()
        try await super.tearDown()
    }

    func startUpstream(_ name: String, port: Int = 0) async throws -> FakeUpstream {
        let upstream = try await FakeUpstream.start(name: name, group: group, port: port)
        extraUpstreams.append(upstream)
        return upstream
    }

    /// A port nothing listens on: an upstream started and stopped again.
    func deadAddress() async throws -> String {
        let upstream = try await FakeUpstream.start(name: "dead", group: group)
        await upstream.stop()
        return upstream.address
    }

    /// One listener whose route `/` goes to cluster `pool` of `endpoints`, with `route` and
    /// `cluster` lines added to each; `chain` lists inbound-http stages.
    func clusterConfig(endpoints: [String], route: String = "", cluster: String = "", chain: String = "",
                       workers: Int = 1) -> String {
        func indent(_ text: String, _ spaces: Int) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.isEmpty ? "" : String(repeating: " ", count: spaces) + $0 }.joined(separator: "\n")
        }
        return """
        workers: \(workers)
        modules_dir: {{modules}}
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - name: local
                domains: ["*"]
                routes:
                  - name: pooled
                    match: { prefix: / }
                    cluster: pool
        \(indent(route, 12))
        clusters:
          - name: pool
            endpoints: [\(endpoints.map { "\"\($0)\"" }.joined(separator: ", "))]
            connect_timeout: 500ms
            request_timeout: 5s
        \(indent(cluster, 4))
        chains:
          inbound-http:
        \(chain.isEmpty ? "    []" : indent(chain, 4))
        """
    }
}
