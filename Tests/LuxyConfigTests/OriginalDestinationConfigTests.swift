import XCTest
@testable import LuxyConfig

/// `original_destination` on listeners and virtual hosts, and `type: original_destination`
/// clusters: what loads, and the errors (golden, with file:line) for what can't work.
final class OriginalDestinationConfigTests: XCTestCase {
    private static let file = "/x/luxy.yaml"

    private static let listener = """
    listeners:
      - name: outbound
        direction: outbound
        protocol: http
        address: 0.0.0.0:15001
        original_destination: true
        virtual_hosts:
          - name: reviews
            original_destination_port: 9080
            routes: [{ name: r, match: { prefix: / }, cluster: passthrough }]
          - name: db
            original_destination: 10.0.0.5:8080
            routes: [{ name: d, match: { prefix: / }, cluster: passthrough }]
    """

    func testLoadsListenerVirtualHostsAndThePassthroughCluster() throws {
        let yaml = Self.listener + "\nclusters:\n  - name: passthrough\n    type: original_destination\n"
        let configuration = try ConfigurationLoader.parse(yaml: yaml, file: Self.file)
        let listener = try XCTUnwrap(configuration.listeners.first)
        XCTAssertTrue(listener.originalDestination)
        XCTAssertEqual(listener.virtualHosts.map(\.originalDestination), [
            OriginalDestinationMatch(host: nil, port: 9080), OriginalDestinationMatch(host: "10.0.0.5", port: 8080),
        ])
        XCTAssertEqual(configuration.clusters.first?.kind, .originalDestination)
        XCTAssertEqual(configuration.clusters.first?.endpoints, [])
    }

    func testErrorsNameTheLine() {
        let yaml = """
        listeners:
          - name: outbound
            direction: outbound
            protocol: http
            address: 0.0.0.0:15001
            virtual_hosts:
              - original_destination_port: 70000
                routes: [{ name: r, match: { prefix: / }, cluster: passthrough }]
              - original_destination: 10.0.0.5:8080
                original_destination_port: 8080
                routes: [{ name: d, match: { prefix: / }, cluster: passthrough }]
        clusters:
          - name: passthrough
            type: original_destination
            endpoints: ["10.0.0.1:80"]
          - name: static
          - name: odd
            type: dynamic
            endpoints: ["10.0.0.1:80"]
        """
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: yaml, file: Self.file)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.problems.map(\.description), [
            "/x/luxy.yaml:6:5: virtual hosts matching 'original_destination' need 'original_destination: true' on listener 'outbound'",
            "/x/luxy.yaml:7:36: 'original_destination_port' must be between 1 and 65535, got 70000",
            "/x/luxy.yaml:10:9: give either 'original_destination' or 'original_destination_port', not both",
            "/x/luxy.yaml:15:5: 'endpoints' is not for a cluster of type original_destination: each connection goes to its original destination",
            "/x/luxy.yaml:16:5: missing required key 'endpoints' in cluster",
            "/x/luxy.yaml:18:11: 'type' must be one of static, original_destination",
            ])
        }
    }
}
