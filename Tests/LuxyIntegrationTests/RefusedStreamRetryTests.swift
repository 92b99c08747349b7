import LuxyTestSupport
import XCTest

/// `retry_on: refused-stream` against a real h2c upstream that answers a stream's HEADERS
/// with `RST_STREAM(REFUSED_STREAM)`: HTTP/2's promise that the request was not processed.
final class RefusedStreamRetryTests: ResilienceTestCase {
    private var h2Upstream: FakeHTTP2Upstream!

    override func setUp() async throws {
        try await super.setUp()
        h2Upstream = try await FakeHTTP2Upstream.start(name: "h2-backend", group: group)
    }

    override func tearDown() async throws {
        await h2Upstream.stop()
        try await super.tearDown()
    }

    private func config(retryOn: String) -> String {
        clusterConfig(endpoints: [h2Upstream.address],
                      route: "retry_policy: { retry_on: [\(retryOn)], num_retries: 1, retry_back_off: { base_interval: 5ms } }",
                      cluster: "protocol: http2")
    }

    func testARefusedStreamIsRetriedAndTheClientSeesTheRetrysAnswer() async throws {
        let proxy = try await startProxy(config(retryOn: "refused-stream"))
        h2Upstream.refuseStreams(1)
        // A POST, which `retriable_methods` leaves out by default: a refused stream was never
        // processed, so it goes again all the same.
        let response = try await connect(proxy).request("POST", "/item", body: "order-42")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(response.header("x-upstream"), "h2-backend")
        XCTAssertEqual(h2Upstream.refusedStreams, 1)
        XCTAssertEqual(h2Upstream.received.count, 1, "the refused stream was not processed; the retry was")
        XCTAssertEqual(h2Upstream.received.first?.body, "order-42")
        XCTAssertEqual(h2Upstream.received.first?.head.headers.first(name: "x-luxy-attempt-count"), "2")
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_refused_stream"], 1)
        XCTAssertEqual(counters["upstream_rq_retry"], 1)
    }

    func testWithoutRefusedStreamInRetryOnTheClientSees503() async throws {
        let proxy = try await startProxy(config(retryOn: "connect-failure"))
        h2Upstream.refuseStreams(1)
        let response = try await connect(proxy).request("GET", "/item")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.body, "upstream refused the stream\n")
        XCTAssertEqual(h2Upstream.refusedStreams, 1)
        XCTAssertEqual(h2Upstream.received.count, 0)
        let counters = await proxy.server.counters()
        XCTAssertEqual(counters["upstream_refused_stream"], 1)
        XCTAssertNil(counters["upstream_rq_retry"])
        // The connection itself is fine: the next request on it is answered.
        let next = try await connect(proxy).request("GET", "/next")
        XCTAssertEqual(next.status, 200)
    }
}
