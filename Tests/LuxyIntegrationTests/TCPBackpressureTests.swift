import LuxyTestSupport
import NIOCore
import XCTest

/// A large transfer through a deliberately slow reader: the proxy must hold the fast side
/// back instead of buffering, so what it holds stays bounded whatever the size.
final class TCPBackpressureTests: IntegrationTestCase {
    func testLargeTransferToASlowReaderStaysBounded() async throws {
        let echo = try await FakeTCPEchoServer.start(group: group)
        let proxy = try await startProxy("""
            workers: 2
            listeners:
              - name: tcp-in
                direction: inbound
                protocol: tcp
                address: 127.0.0.1:0
                cluster: echo
            clusters:
              - name: echo
                endpoints: ["\(echo.address)"]
            """)
        let total = 100 * 1024 * 1024
        // 16 KiB per millisecond at most: slower than the writer, so the proxy's writes to the
        // client back up and it must stop reading the echo server (which then stops reading us).
        let client = try await TestTCPClient.connect(port: await proxy.port("tcp-in"), group: group,
                                                     slowReadInterval: .milliseconds(1), checkPattern: true)
        let started = ContinuousClock.now
        async let sent: Void = client.sendPattern(count: total)
        let done = await client.wait(timeout: .seconds(55)) { $0.receivedCount >= total || !$0.patternIntact }
        try await sent
        let elapsed = ContinuousClock.now - started
        XCTAssertTrue(done, "received \(client.receivedCount) of \(total) in \(elapsed)")
        XCTAssertTrue(client.patternIntact, "bytes arrive complete and in order")
        XCTAssertEqual(echo.receivedCount, total)
        let peak = await proxy.server.counters()["tcp_buffered_bytes_max"] ?? -1
        XCTAssertGreaterThan(peak, 0)
        XCTAssertLessThan(peak, 4 * 1024 * 1024, "the proxy buffered at most \(peak) bytes")
        print("TCPBackpressureTests: \(total) bytes in \(elapsed), peak buffered \(peak) bytes")
        await client.close()
        await echo.stop()
    }
}
