import NIOCore
import NIOHTTP1

/// The request head as it goes upstream: hop-by-hop fields dropped, forwarding fields set,
/// framing made explicit so the encoder neither guesses nor drops a body.
enum UpstreamRequestHead {
    /// `keepingUpgrade`: the request is to become a tunnel, so its `Upgrade` and
    /// `Connection: upgrade` go along (every other hop-by-hop field still does not).
    ///
    /// The common request (HTTP/1.1, not to become a tunnel) is prepared where the exchange
    /// holds it, so its fields are not copied: the response and log phases then see it as it
    /// went upstream, forwarding fields included, as Envoy's filters and access log see the
    /// ones its connection manager sets. Another attempt (a retry, a failover) prepares it
    /// again without appending the client a second time. The others are prepared on a copy:
    /// an HTTP/1.0 or HTTP/2 request keeps its version for `%PROTOCOL%`, and a tunnel's
    /// upgrade fields must still be there for the next attempt.
    static func make(from exchange: HTTPExchange, keepingUpgrade: Bool = false) -> HTTPRequestHead {
        let forwarding = Forwarding(exchange, appendingClient: !exchange.clientAddressForwarded)
        guard exchange.requestHead.version == .http1_1, !keepingUpgrade else {
            var head = exchange.requestHead
            prepare(&head, forwarding, keepingUpgrade: keepingUpgrade)
            return head
        }
        prepare(&exchange.requestHead, forwarding, keepingUpgrade: false)
        // Set once and kept: a later attempt appends nothing, and must not clear it.
        if forwarding.clientIP != nil { exchange.clientAddressForwarded = true }
        return exchange.requestHead
    }

    /// The client's head as it came (`RequestHeadAsItCame`), completed as `make` and the
    /// encoder would complete it: the client's address as `x-forwarded-for` (the head has none
    /// to append to), `x-forwarded-proto` where it is missing, and the blank line. The one
    /// difference is the spacing of the client's field lines, which stays theirs.
    static func forwarded(_ asItCame: RequestHeadAsItCame, of exchange: HTTPExchange, headBuffer: ReusedHeadBuffer,
                          allocator: ByteBufferAllocator) -> ForwardedRequestHead {
        var bytes = headBuffer.take(capacity: asItCame.bytes.readableBytes + 80, allocator: allocator)
        bytes.writeImmutableBuffer(asItCame.bytes)
        if let ip = exchange.peer.remoteIP {
            bytes.writeStaticString("x-forwarded-for: ")
            bytes.writeString(ip)
            bytes.writeStaticString("\r\n")
        }
        if !asItCame.hasForwardedProto {
            bytes.writeStaticString(exchange.tls == nil ? "x-forwarded-proto: http\r\n" : "x-forwarded-proto: https\r\n")
        }
        bytes.writeStaticString("\r\n")
        headBuffer.keep(bytes)
        return ForwardedRequestHead(bytes: bytes, framing: asItCame.hasContentLength ? .contentLength : .none)
    }

    /// What the head gets from the rest of the exchange, read before the head is changed.
    private struct Forwarding {
        /// A body a stage streams lost its declared length (see `HTTPExchange.nextBodyChunk`).
        var chunked: Bool
        /// The length of a body a stage read whole.
        var bufferedLength: Int?
        /// The endpoint, for an HTTP/1.0 request without `Host`.
        var upstreamTarget: String?
        /// Appended to `x-forwarded-for`; nil when it was already, or is not known.
        var clientIP: String?
        var scheme: String

        init(_ exchange: HTTPExchange, appendingClient: Bool) {
            chunked = exchange.framing.chunked || (exchange.requestChunks != nil && exchange.request.hasBody)
            bufferedLength = exchange.request.isWanted && exchange.request.isComplete
                ? exchange.request.bufferedBytes : nil
            upstreamTarget = exchange.upstreamTarget
            clientIP = appendingClient ? exchange.peer.remoteIP : nil
            scheme = exchange.tls == nil ? "http" : "https"
        }
    }

    private static func prepare(_ head: inout HTTPRequestHead, _ forwarding: Forwarding, keepingUpgrade: Bool) {
        let upgrade = keepingUpgrade ? head.headers["upgrade"] : []
        HopByHopHeaders.strip(&head.headers)
        HTTPUpgrade.restore(upgrade, into: &head.headers)
        if head.version != .http1_1 {
            // Only HTTP/1.0 may come without `Host` (the edge refuses it elsewhere), and an
            // HTTP/1.1 request must have one: the endpoint's, as nginx's `$proxy_host`.
            if !head.headers.contains(name: "host"), let target = forwarding.upstreamTarget {
                head.headers.add(name: "host", value: target)
            }
            head.version = .http1_1
        }
        if let length = forwarding.bufferedLength {
            head.headers.setContentLength(length)
        } else if forwarding.chunked, !head.headers.contains(name: "content-length") {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        if let ip = forwarding.clientIP {
            if let existing = head.headers.first(name: "x-forwarded-for") {
                head.headers.replaceOrAdd(name: "x-forwarded-for", value: "\(existing), \(ip)")
            } else {
                head.headers.add(name: "x-forwarded-for", value: ip)
            }
        }
        if !head.headers.contains(name: "x-forwarded-proto") {
            head.headers.add(name: "x-forwarded-proto", value: forwarding.scheme)
        }
    }
}
