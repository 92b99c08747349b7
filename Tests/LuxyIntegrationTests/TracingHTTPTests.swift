import Foundation
import LuxyTestSupport
import XCTest

/// `modules/tracing-http.lua` against a real collector (a second fake upstream that records
/// what it is sent): trace ids in the spans match the headers that went upstream, and a
/// request that came with a trace context keeps its trace id.
final class TracingHTTPTests: ResilienceTestCase {
    private var collector: FakeUpstream!

    override func setUp() async throws {
        try await super.setUp()
        collector = try await startUpstream("collector")
    }

    private func config(_ settings: String) -> String {
        standardConfig(inboundStages: """
            - name: tracing-http
              priority: 900
              config: { collector_cluster: collector, flush_interval: 0.05, \(settings) }
        """, cluster: """
          - name: collector
            endpoints: ["\(collector.address)"]
        """, workers: 1)
    }

    /// Every span the collector got so far, from Zipkin v2 batches.
    private func zipkinSpans() throws -> [[String: Any]] {
        try collector.received.filter { $0.head.uri == "/api/v2/spans" }.flatMap { received -> [[String: Any]] in
            let batch = try JSONSerialization.jsonObject(with: Data(received.body.utf8))
            return try XCTUnwrap(batch as? [[String: Any]], received.body)
        }
    }

    private func sentUpstream(_ path: String) throws -> [String: String] {
        let received = try XCTUnwrap(upstream.received.last { $0.head.uri == path }, "nothing reached the upstream at \(path)")
        var headers: [String: String] = [:]
        for (name, value) in received.head.headers { headers[name.lowercased()] = value }
        return headers
    }

    func testZipkinSpansMatchThePropagatedHeadersAndKeepAnIncomingTraceId() async throws {
        let proxy = try await startProxy(config("format: zipkin, sample_rate: 1, propagation: [w3c, b3, b3multi]"))
        let client = try await connect(proxy)
        let incomingTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
        let incomingSpan = "00f067aa0ba902b7"
        _ = try await client.request("GET", "/with-parent",
                                     headers: [("traceparent", "00-\(incomingTrace)-\(incomingSpan)-01"),
                                               ("tracestate", "vendor=opaque")])
        _ = try await client.request("GET", "/fresh")
        _ = try await client.request("GET", "/b3", headers: [("x-b3-traceid", "463ac35c9f6413ad"),
                                                             ("x-b3-spanid", "a2fb4a1d1a96d312"), ("x-b3-sampled", "1")])

        let withParent = try sentUpstream("/with-parent")
        let traceparent = try XCTUnwrap(withParent["traceparent"])
        let parts = traceparent.split(separator: "-").map(String.init)
        XCTAssertEqual(parts.count, 4)
        XCTAssertEqual(parts[1], incomingTrace, "the trace id is kept")
        XCTAssertNotEqual(parts[2], incomingSpan, "a span of its own")
        XCTAssertEqual(parts[3], "01")
        XCTAssertEqual(withParent["tracestate"], "vendor=opaque")
        XCTAssertEqual(withParent["b3"], "\(incomingTrace)-\(parts[2])-1-\(incomingSpan)")
        XCTAssertEqual(withParent["x-b3-traceid"], incomingTrace)
        XCTAssertEqual(withParent["x-b3-spanid"], parts[2])
        XCTAssertEqual(withParent["x-b3-parentspanid"], incomingSpan)

        let fresh = try sentUpstream("/fresh")
        let freshParts = try XCTUnwrap(fresh["traceparent"]).split(separator: "-").map(String.init)
        XCTAssertEqual(freshParts[1].count, 32)

        let b3 = try sentUpstream("/b3")
        XCTAssertEqual(b3["x-b3-traceid"], "463ac35c9f6413ad", "a 64-bit B3 trace id stays as it came")
        XCTAssertEqual(b3["traceparent"]?.split(separator: "-")[1], "0000000000000000463ac35c9f6413ad")

        try await eventually("three spans at the collector") { ((try? zipkinSpans()) ?? []).count >= 3 }
        let spans = try zipkinSpans()
        XCTAssertEqual(spans.count, 3)
        let byPath = Dictionary(uniqueKeysWithValues: spans.map { span in
            ((span["tags"] as? [String: String])?["http.path"] ?? "", span)
        })
        let parentSpan = try XCTUnwrap(byPath["/with-parent"])
        XCTAssertEqual(parentSpan["traceId"] as? String, incomingTrace)
        XCTAssertEqual(parentSpan["id"] as? String, parts[2])
        XCTAssertEqual(parentSpan["parentId"] as? String, incomingSpan)
        XCTAssertEqual(parentSpan["kind"] as? String, "SERVER")
        XCTAssertEqual((parentSpan["tags"] as? [String: String])?["http.status_code"], "200")
        XCTAssertEqual((parentSpan["localEndpoint"] as? [String: String])?["serviceName"], "luxy")
        XCTAssertEqual(byPath["/fresh"]?["traceId"] as? String, freshParts[1])
        XCTAssertNil(byPath["/fresh"]?["parentId"])
        XCTAssertEqual(byPath["/b3"]?["traceId"] as? String, "463ac35c9f6413ad")
        XCTAssertEqual(byPath["/b3"]?["parentId"] as? String, "a2fb4a1d1a96d312")
    }

    func testTheParentsDecisionWinsOverTheRate() async throws {
        let proxy = try await startProxy(config("sample_rate: 0"))
        let client = try await connect(proxy)
        _ = try await client.request("GET", "/unsampled-root")
        _ = try await client.request("GET", "/parent-says-no",
                                     headers: [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")])
        _ = try await client.request("GET", "/parent-says-yes",
                                     headers: [("traceparent", "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
        XCTAssertNil(try sentUpstream("/unsampled-root")["traceparent"], "nothing injected for an unsampled root")
        XCTAssertEqual(try sentUpstream("/parent-says-no")["traceparent"],
                       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "passed on untouched")
        // One worker buffers spans in order and the sampled request came last: once its span
        // is there, a span of the unsampled ones would be there too.
        try await eventually("the sampled span") { ((try? zipkinSpans()) ?? []).count >= 1 }
        let spans = try zipkinSpans()
        XCTAssertEqual(spans.map { $0["traceId"] as? String }, ["5bf92f3577b34da6a3ce929d0e0e4736"])
    }

    func testOTLPExport() async throws {
        let proxy = try await startProxy(config("format: otlp, service_name: shop"))
        let client = try await connect(proxy)
        _ = try await client.request("GET", "/otlp",
                                     headers: [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")])
        try await eventually("an OTLP batch") { collector.received.contains { $0.head.uri == "/v1/traces" } }
        let body = try XCTUnwrap(collector.received.first { $0.head.uri == "/v1/traces" }?.body)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], body)
        let resourceSpans = try XCTUnwrap(root["resourceSpans"] as? [[String: Any]])
        let scopeSpans = try XCTUnwrap(resourceSpans.first?["scopeSpans"] as? [[String: Any]])
        let span = try XCTUnwrap((scopeSpans.first?["spans"] as? [[String: Any]])?.first)
        XCTAssertEqual(span["traceId"] as? String, "4bf92f3577b34da6a3ce929d0e0e4736")
        XCTAssertEqual(span["parentSpanId"] as? String, "00f067aa0ba902b7")
        XCTAssertEqual(span["kind"] as? Int, 2)
        XCTAssertTrue(body.contains(#"{"key":"service.name","value":{"stringValue":"shop"}}"#), body)
        XCTAssertTrue(body.contains(#"{"key":"http.response.status_code","value":{"intValue":"200"}}"#), body)
    }
}
