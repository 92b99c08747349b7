import LuxyTestSupport
import XCTest

/// Listeners with `original_destination: true` where nothing redirects: the original
/// destination is the listener's own address, so virtual hosts matched by it, what Lua sees,
/// and the refusal to loop through a passthrough cluster can be checked without root
/// (TransparentCaptureTests does it behind a real iptables REDIRECT).
final class OriginalDestinationTests: IntegrationTestCase {
    /// `port`: free when the proxy starts (`freePort`); the config must name it for
    /// `original_destination:`.
    private func config(port: Int) -> String {
        """
        workers: 1
        modules_dir: {{modules}}
        listeners:
          - name: outbound
            direction: outbound
            protocol: http
            address: 127.0.0.1:\(port)
            original_destination: true
            virtual_hosts:
              - name: other-port
                original_destination_port: 1
                routes:
                  - { name: wrong-port, match: { prefix: / }, direct_response: { status: 500, body: wrong-port } }
              - name: this-address
                original_destination: 127.0.0.1:\(port)
                routes:
                  - { name: loop, match: { prefix: /loop }, cluster: passthrough }
                  - { name: known, match: { prefix: /known }, cluster: backend }
                  - { name: echo, match: { prefix: / }, echo: true }
              - name: any-destination
                routes:
                  - { name: fallback, match: { prefix: / }, direct_response: { status: 500, body: fallback } }
        clusters:
          - name: passthrough
            type: original_destination
          - name: backend
            endpoints: ["\(upstream.address)"]
        chains:
          outbound-http:
            - { name: show-destination, priority: 1 }
        """
    }

    private let showDestination = """
        function envoy_on_request(h)
          h:headers():add('x-local', h:streamInfo():downstreamLocalAddress())
          h:headers():add('x-direct-local', h:streamInfo():downstreamDirectLocalAddress())
        end
        """

    /// The proxy on `config(port:)` and a connection to its listener.
    private struct Outbound {
        let port: Int
        let proxy: TestProxy
        let connection: TestHTTPConnection
    }

    private func startOutbound() async throws -> Outbound {
        let port = try await freePort(group)
        let proxy = try await startProxy(config(port: port), plugins: ["show-destination": showDestination])
        return Outbound(port: port, proxy: proxy, connection: try await connect(proxy, listener: "outbound"))
    }

    func testWithoutARedirectTheOriginalDestinationIsTheLocalAddressAndRoutesTheVirtualHost() async throws {
        let outbound = try await startOutbound()
        let port = outbound.port, connection = outbound.connection
        let echoed = try await connection.request("GET", "/hello")
        // Neither the other port's host nor the host without a condition: the one for this address.
        XCTAssertEqual(echoed.status, 200, echoed.description)
        XCTAssertTrue(echoed.body.contains(#""x-local":"127.0.0.1:\#(port)""#), echoed.body)
        XCTAssertTrue(echoed.body.contains(#""x-direct-local":"127.0.0.1:\#(port)""#), echoed.body)
        // A static cluster on a host matched by destination works as anywhere else.
        let known = try await connection.request("GET", "/known")
        XCTAssertEqual(known.status, 200, known.description)
    }

    func testAPassthroughToTheProxysOwnAddressIsRefusedNotLooped() async throws {
        let outbound = try await startOutbound()
        let refused = try await outbound.connection.request("GET", "/loop")
        XCTAssertEqual(refused.status, 508, refused.description)
        XCTAssertTrue(refused.body.contains("this proxy's own listener"), refused.body)
        let counters = await outbound.proxy.server.counters()
        XCTAssertEqual(counters["upstream_original_destination_loop"], 1)
    }

    func testATCPListenerRefusesAPassthroughToItselfAndForwardsToAStaticCluster() async throws {
        let echo = try await FakeTCPEchoServer.start(group: group)
        let port = try await freePort(group)
        let yaml = """
            workers: 1
            listeners:
              - name: passthrough
                direction: outbound
                protocol: tcp
                address: 127.0.0.1:\(port)
                original_destination: true
                cluster: passthrough
              - name: static
                direction: outbound
                protocol: tcp
                address: 127.0.0.1:0
                original_destination: true
                cluster: echo
            clusters:
              - name: passthrough
                type: original_destination
              - name: echo
                endpoints: ["127.0.0.1:\(echo.port)"]
            """
        let proxy = try await startProxy(yaml)
        let looped = try await TestTCPClient.connect(port: port, group: group)
        let closed = await looped.wait { $0.isClosed }
        XCTAssertTrue(closed, "a passthrough to the proxy itself must close")
        try await eventually("the loop counted") {
            await proxy.server.counters()["upstream_original_destination_loop"] == 1
        }
        let forwarded = try await TestTCPClient.connect(port: await proxy.port("static"), group: group)
        try await forwarded.send("ping")
        let echoed = await forwarded.wait { $0.receivedText == "ping" }
        XCTAssertTrue(echoed, "got \(forwarded.receivedText)")
        await forwarded.close()
        await looped.close()
        await echo.stop()
    }
}
