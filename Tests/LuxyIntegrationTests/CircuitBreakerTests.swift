import LuxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest

/// A cluster's `circuit_breakers` and `idle_timeout` over real sockets. The bounds are per
/// event loop, so every test pins one loop (`workers: 1`).
final class CircuitBreakerTests: ResilienceTestCase {
    func testMaxRequestsAnswers503Overloaded() async throws {
        let proxy = try await startProxy(clusterConfig(
            endpoints: [upstream.address], cluster: "circuit_breakers: { max_requests: 1 }"))
        let holding = try await connect(proxy)
        try await holding.send("GET /hold HTTP/1.1\r\nhost: localhost\r\n\r\n")
        try await eventually("the first request to reach the upstream") { upstream.heldCount == 1 }

        let refused = try await connect(proxy).request("GET", "/other")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("x-luxy-overloaded"), "true")
        XCTAssertEqual(refused.body, "upstream overloaded: cluster's max_requests reached\n")
        XCTAssertEqual(upstream.received.count, 1, "nothing was sent for the refused request")

        upstream.releaseHeld()
        let held = try await holding.readResponse()
        XCTAssertEqual(held.status, 200)
        let after = try await connect(proxy).request("GET", "/again")
        XCTAssertEqual(after.status, 200, "the bound frees as requests end")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_overflow"], 1)
    }

    func testMaxConnectionsAnswers503Overloaded() async throws {
        let proxy = try await startProxy(clusterConfig(
            endpoints: [upstream.address], cluster: "circuit_breakers: { max_connections: 1 }"))
        let holding = try await connect(proxy)
        try await holding.send("GET /hold HTTP/1.1\r\nhost: localhost\r\n\r\n")
        try await eventually("the first request to reach the upstream") { upstream.heldCount == 1 }

        // The one connection is busy: a second one may not be opened.
        let refused = try await connect(proxy).request("GET", "/other")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("x-luxy-overloaded"), "true")
        XCTAssertEqual(upstream.connectionsAccepted, 1)

        upstream.releaseHeld()
        let held = try await holding.readResponse()
        XCTAssertEqual(held.status, 200)
        // Back in the pool, the connection serves the next request.
        let after = try await connect(proxy).request("GET", "/again")
        XCTAssertEqual(after.status, 200)
        XCTAssertEqual(upstream.connectionsAccepted, 1)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_cx_overflow"], 1)
    }

    func testMaxPendingRequestsBoundsTheWaitForAConnection() async throws {
        // A server that accepts and never says a word: a TLS handshake to it waits, so the
        // request that asked for the connection stays pending.
        let accepted = NIOLockedValueBox<[Channel]>([])
        let silent = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                accepted.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = try await startProxy(clusterConfig(
            endpoints: ["127.0.0.1:\(silent.localAddress!.port!)"], route: "timeout: 300ms",
            cluster: "circuit_breakers: { max_pending_requests: 1 }\ntls: { verify: false }"))
        let waiting = try await connect(proxy)
        try await waiting.send("GET /first HTTP/1.1\r\nhost: localhost\r\n\r\n")

        let refused = try await connect(proxy).request("GET", "/second")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.header("x-luxy-overloaded"), "true")
        XCTAssertEqual(refused.body, "upstream overloaded: cluster's max_pending_requests reached\n")
        let first = try await waiting.readResponse()
        XCTAssertEqual(first.status, 504, "the route's timeout ends the wait of the client")

        // The handshake still waits, so the bound still holds, until the server goes away.
        let stillRefused = try await connect(proxy).request("GET", "/third")
        XCTAssertEqual(stillRefused.header("x-luxy-overloaded"), "true")
        try await silent.close()
        for channel in accepted.withLockedValue({ $0 }) { try? await channel.close() }
        try await eventually("the pending connect to end") {
            let response = try? await self.connect(proxy).request("GET", "/fourth")
            return response?.status == 503 && response?.header("x-luxy-overloaded") == nil
        }
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_rq_pending_overflow"], 2)
    }

    func testIdlePooledConnectionsCloseAfterTheIdleTimeout() async throws {
        let proxy = try await startProxy(clusterConfig(
            endpoints: [upstream.address], cluster: "idle_timeout: 200ms"))
        let client = try await connect(proxy)
        let first = try await client.request("GET", "/")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(upstream.openConnections, 1, "kept alive in the pool")
        try await eventually("the idle pooled connection to close") { upstream.openConnections == 0 }
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_cx_idle_timeout"], 1)
        let next = try await client.request("GET", "/")
        XCTAssertEqual(next.status, 200, "a new connection serves the next one")
        XCTAssertEqual(upstream.connectionsAccepted, 2)
    }

    func testPooledConnectionsInUseOutliveTheIdleTimeout() async throws {
        let proxy = try await startProxy(clusterConfig(
            endpoints: [upstream.address], cluster: "idle_timeout: 300ms"))
        let client = try await connect(proxy)
        // Requests closer together than the idle timeout keep one connection for 1 s.
        let until = ContinuousClock.now + .seconds(1)
        var requests = 0
        while ContinuousClock.now < until, requests < 100 {
            let response = try await client.request("GET", "/delay/50")
            XCTAssertEqual(response.status, 200)
            requests += 1
        }
        XCTAssertEqual(upstream.connectionsAccepted, 1)
        let counters = await proxy.server.counters()
        XCTAssertNil(counters["upstream_cx_idle_timeout"])
    }
}
