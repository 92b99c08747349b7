import Foundation
@testable import LuxyCore
import LuxyTestSupport
import NIOConcurrencyHelpers
import NIOCore
import XCTest

/// A reload that fails after binding a listener it adds: that listener may already have
/// accepted a request, which runs on the reload's (pending) generation. The failed
/// generation is dropped, but its Lua VM closes only once that request is done.
final class FailedReloadTests: IntegrationTestCase {
    private struct ReloadRefused: Error {}

    /// `extra` is the listener the reload adds.
    private func config(extraListener: Bool) -> String {
        let extra = """
              - name: extra
                direction: inbound
                protocol: http
                address: 127.0.0.1:0
                virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                      - name: backend
                        match: { prefix: / }
                        cluster: backend
            """
        return """
            workers: 1
            listeners:
              - name: inbound
                direction: inbound
                protocol: http
                address: 127.0.0.1:0
                virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes:
                      - name: backend
                        match: { prefix: / }
                        cluster: backend
            \(extraListener ? extra : "")
            clusters:
              - name: backend
                endpoints: ["\(upstream.address)"]
            chains:
              inbound-http:
                - { name: side, priority: 10 }
            """
    }

    /// The request phase waits in a side call the fake upstream holds (`/hold`); the
    /// response phase runs after it, on the same VM.
    private func sidePlugin(_ version: String) -> String {
        """
        function envoy_on_request(h)
          local headers = h:httpCall("backend",
            {[":method"] = "GET", [":path"] = "/hold", [":authority"] = "backend"}, "", 5000)
          h:headers():add("x-side", headers[":status"])
        end
        function envoy_on_response(h) h:headers():add("x-version", "\(version)") end
        """
    }

    func testAFailedReloadClosesItsVMOnlyAfterTheRequestsItsListenersTook() async throws {
        let proxy = try await startProxy(config(extraListener: false), plugins: ["side": sidePlugin("v1")])
        let server = proxy.server
        let group = self.group!
        let upstream = self.upstream!
        let opened = NIOLockedValueBox<TestHTTPConnection?>(nil)
        // Between binding `extra` and committing, a client sends a request on it; the reload
        // fails once that request waits in its side call.
        await server.setListenersBoundHook { bound in
            guard let port = bound["extra"]?.port else { throw ReloadRefused() }
            let connection = try await TestHTTPConnection.connect(port: port, group: group)
            opened.withLockedValue { $0 = connection }
            try await connection.send("GET /on-extra HTTP/1.1\r\nhost: x\r\n\r\n")
            _ = await waitUntil(timeout: .seconds(5)) { upstream.heldCount > 0 }
            throw ReloadRefused()
        }
        try proxy.writePlugin("side", sidePlugin("v2"))
        try proxy.writeConfig(config(extraListener: true))
        do {
            _ = try await proxy.runtime.reload()
            XCTFail("the reload should have failed")
        } catch is ReloadRefused {}
        await server.setListenersBoundHook(nil)
        XCTAssertEqual(upstream.heldCount, 1, "the request on the new listener waits in its side call")
        let generation = await server.generation
        XCTAssertEqual(generation, 1, "the running generation stays")
        let during = await server.lifetimes()
        XCTAssertEqual(during, GenerationLifetimes(live: 2, inMemory: 2, openStageRuntimes: 2),
                       "the failed generation is kept for the request that runs on it")

        // The side call returns: the rest of the request phase and the response phase run on
        // the failed generation's VM, which is still open.
        upstream.releaseHeld()
        let connection = try XCTUnwrap(opened.withLockedValue { $0 })
        let response = try await connection.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("x-version"), "v2")
        XCTAssertEqual(upstream.received.last?.head.headers.first(name: "x-side"), "200")
        let addresses = await server.listenerAddresses()
        XCTAssertNil(addresses["extra"], "the listener the failed reload bound is closed again")
        try await eventually("the failed generation to close after its request") {
            await server.lifetimes() == GenerationLifetimes(live: 1, inMemory: 1, openStageRuntimes: 1)
        }

        // The next reload succeeds with the same generation number (2) and the same listener.
        // The connection that the failed generation served is still open: its next request
        // must be served by the new generation 2, not by what it kept of the failed one.
        try proxy.writePlugin("side", sidePlugin("v3"))
        let outcome = try await proxy.runtime.reload()
        XCTAssertEqual(outcome.generation, 2)
        try await connection.send("GET /again HTTP/1.1\r\nhost: x\r\n\r\n")
        try await eventually("the side call of the request on the kept connection") { upstream.heldCount == 1 }
        upstream.releaseHeld()
        let again = try await connection.readResponse()
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.header("x-version"), "v3")
        await connection.close()
        try proxy.writePlugin("side", sidePlugin("v1"))
        try proxy.writeConfig(config(extraListener: false))
        _ = try await proxy.runtime.reload()
        // The proxy serves on with generation 1.
        let fresh = try await connect(proxy)
        upstream.releaseHeld()
        try await fresh.send("GET /after HTTP/1.1\r\nhost: x\r\n\r\n")
        try await eventually("the side call of the next request") { upstream.heldCount == 1 }
        upstream.releaseHeld()
        let after = try await fresh.readResponse()
        XCTAssertEqual(after.header("x-version"), "v1")
        let settled = await server.lifetimes()
        XCTAssertEqual(settled.live, 1)
    }
}

