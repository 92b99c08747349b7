import LuxyTestSupport
import NIOCore
import XCTest

/// Graceful shutdown on real sockets: stop accepting, close idle connections, let the request
/// in flight finish.
final class ShutdownTests: IntegrationTestCase {
    /// Polls `condition` until it holds or `timeout` passes; a bounded wait on a condition,
    /// not a sleep standing in for readiness.
    private func eventually(timeout: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return await condition()
    }

    func testInFlightRequestCompletesWhileNewConnectionsAreRefused() async throws {
        let proxy = try await startProxy(standardConfig())
        let port = await proxy.port("inbound")

        // An idle keep-alive connection that already served a request.
        let idle = try await connect(proxy)
        let warmup = try await idle.request("GET", "/warmup")
        XCTAssertEqual(warmup.status, 200)

        // A request held at the upstream.
        let busy = try await connect(proxy)
        try await busy.send("GET /hold HTTP/1.1\r\nhost: x\r\n\r\n")
        let upstream = self.upstream!
        let held = await eventually { upstream.heldCount == 1 }
        XCTAssertTrue(held, "the request never reached the upstream")

        let started = ContinuousClock.now
        let server = proxy.server
        let shutdown = Task { await server.shutdown(drainTimeout: .seconds(5)) }

        // Idle connections close at once; by then the listener is closed too.
        let idleClosed = await idle.waitForClose(timeout: .seconds(3))
        XCTAssertTrue(idleClosed, "an idle keep-alive connection must close when shutdown starts")
        let listenersGone = await eventually { await server.listenerAddresses().isEmpty }
        XCTAssertTrue(listenersGone)

        // New connections are refused.
        do {
            let late = try await TestHTTPConnection.connect(port: port, group: group)
            // Accepted by a backlog that outlived the listener would still be wrong: it must not be served.
            let answer = try? await late.request("GET", "/late")
            await late.close()
            XCTFail("a connection made after shutdown started was accepted (answer: \(String(describing: answer)))")
        } catch {
            // Expected: connection refused.
        }

        // The request in flight is still open, and completes once the upstream answers.
        XCTAssertFalse(busy.isClosed, "the in-flight request must not be cut")
        upstream.releaseHeld()
        let response = try await busy.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.body.hasPrefix("GET /hold\n"), response.body)
        XCTAssertEqual(response.header("connection")?.lowercased(), "close", "draining connections close after their response")
        let busyClosed = await busy.waitForClose()
        XCTAssertTrue(busyClosed)

        await shutdown.value
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5),
                          "shutdown must end once the last connection closed, not at the drain timeout")
        XCTAssertEqual(upstream.received.map(\.head.uri), ["/warmup", "/hold"])
    }

    func testDrainTimeoutCutsWhatIsLeft() async throws {
        let proxy = try await startProxy(standardConfig())
        let busy = try await connect(proxy)
        try await busy.send("GET /hold HTTP/1.1\r\nhost: x\r\n\r\n")
        let upstream = self.upstream!
        let held = await eventually { upstream.heldCount == 1 }
        XCTAssertTrue(held)

        let started = ContinuousClock.now
        await proxy.server.shutdown(drainTimeout: .milliseconds(300))
        let elapsed = ContinuousClock.now - started
        XCTAssertGreaterThanOrEqual(elapsed, .milliseconds(300))
        XCTAssertLessThan(elapsed, .seconds(3))
        let closed = await busy.waitForClose()
        XCTAssertTrue(closed, "a request still in flight at the drain timeout is cut")
        upstream.releaseHeld()
    }
}
