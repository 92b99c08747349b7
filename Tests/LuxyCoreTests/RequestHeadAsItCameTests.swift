import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// A request head goes upstream as the client sent it only where preparing it would change
/// nothing but add the forwarding fields; and then what goes is what the prepared head says.
final class RequestHeadAsItCameTests: XCTestCase {
    private struct Case {
        var text: String
        var why: String
    }

    private func parsed(_ text: String) throws -> RequestHeadParser.ParsedHead {
        guard case .parsed(let parsed) = RequestHeadParser.parse(ByteBuffer(string: text), maxHeadBytes: 8192, maxFields: 100)
        else { throw XCTSkip("not parsed: \(text.debugDescription)") }
        return parsed
    }

    func testOnlyAHeadPreparingWouldNotChangeIsKeptAsItCame() throws {
        let plain = "GET /a?b=1 HTTP/1.1\r\nHost: h\r\nuser-agent:  wrk\r\n\r\n"
        let kept = try XCTUnwrap(try parsed(plain + "GET /next HTTP/1.1\r\n").facts.asItCame)
        XCTAssertEqual(String(buffer: kept.bytes), "GET /a?b=1 HTTP/1.1\r\nHost: h\r\nuser-agent:  wrk\r\n",
                       "the request line and fields, not the blank line nor what follows")
        XCTAssertFalse(kept.hasForwardedProto)
        XCTAssertFalse(kept.hasContentLength)
        let posted = try XCTUnwrap(try parsed("POST / HTTP/1.1\r\nhost: h\r\nX-Forwarded-Proto: https\r\ncontent-length: 2\r\n\r\nok")
            .facts.asItCame)
        XCTAssertTrue(posted.hasForwardedProto)
        XCTAssertTrue(posted.hasContentLength)

        let changed = [
            Case(text: "GET / HTTP/1.0\r\nhost: h\r\nconnection: keep-alive\r\n\r\n", why: "HTTP/1.0 goes as 1.1"),
            Case(text: "GET / HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n\r\n", why: "a hop-by-hop field"),
            Case(text: "GET / HTTP/1.1\r\nhost: h\r\nKeep-Alive: timeout=5\r\n\r\n", why: "a hop-by-hop field"),
            Case(text: "GET / HTTP/1.1\r\nhost: h\r\nte: trailers\r\n\r\n", why: "te, which the strip rewrites"),
            Case(text: "GET / HTTP/1.1\r\nhost: h\r\nx-forwarded-for: 10.0.0.1\r\n\r\n", why: "an x-forwarded-for to append to"),
            Case(text: "PUT / HTTP/1.1\r\nhost: h\r\ncontent-length: 1\r\nexpect: 100-continue\r\n\r\n",
                 why: "an expectation answered here"),
            Case(text: "POST / HTTP/1.1\r\nhost: h\r\n\r\n", why: "a POST without a length is sent chunked"),
        ]
        for item in changed {
            XCTAssertNil(try parsed(item.text).facts.asItCame, item.why)
        }
    }

    /// What goes is the client's bytes with the forwarding fields `make` adds, in its order,
    /// so an upstream reads the same fields as from the prepared head.
    func testTheHeadAsItCameGoesWithTheForwardingFieldsThePreparedHeadHas() throws {
        let text = "DELETE /items/7 HTTP/1.1\r\nHost: api\r\nauthorization: Bearer t\r\n\r\n"
        let read = try parsed(text)
        let asItCame = try XCTUnwrap(read.facts.asItCame)
        let peer = ConnectionPeer(local: try SocketAddress(ipAddress: "127.0.0.1", port: 80),
                                  remote: try SocketAddress(ipAddress: "192.0.2.7", port: 5000))
        let loop = EmbeddedEventLoop()
        let registry = UpstreamClusterRegistry(eventLoop: loop, tlsStores: nil, shared: LoopShared(eventLoop: loop))
        let services = UpstreamServices(clusters: [], registry: registry, eventLoop: loop, stats: ProxyStats(),
                                        ownAddresses: ProxyOwnAddresses(ports: [], hosts: []))
        let exchange = HTTPExchange(listenerName: "l", direction: .inbound, eventLoop: loop, head: read.head,
                                    framing: read.facts.framing, peer: peer, maxBufferedBodyBytes: 1024,
                                    services: services, startTime: .now())
        let forwarded = UpstreamRequestHead.forwarded(asItCame, of: exchange, headBuffer: ReusedHeadBuffer(),
                                                      allocator: ByteBufferAllocator())
        XCTAssertEqual(String(buffer: forwarded.bytes),
                       "DELETE /items/7 HTTP/1.1\r\nHost: api\r\nauthorization: Bearer t\r\n"
                           + "x-forwarded-for: 192.0.2.7\r\nx-forwarded-proto: http\r\n\r\n")
        guard case .none = forwarded.framing else { return XCTFail("a DELETE without a length has no body") }
        let prepared = UpstreamRequestHead.make(from: exchange)
        XCTAssertEqual(prepared.headers.map { "\($0.name): \($0.value)" },
                       ["Host: api", "authorization: Bearer t", "x-forwarded-for: 192.0.2.7", "x-forwarded-proto: http"])
    }
}
