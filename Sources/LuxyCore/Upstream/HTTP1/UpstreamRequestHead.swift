import NIOCore
import NIOHTTP1

/// The request head as it goes upstream: hop-by-hop fields dropped, forwarding fields set,
/// framing made explicit so the encoder neither guesses nor drops a body.
enum UpstreamRequestHead {
    /// `keepingUpgrade`: the request is to become a tunnel, so its `Upgrade` and
    /// `Connection: upgrade` go along (every other hop-by-hop field still does not).
    static func make(from exchange: HTTPExchange, keepingUpgrade: Bool = false) -> HTTPRequestHead {
        var head = exchange.requestHead
        // A body a stage streams lost its declared length (see `HTTPExchange.nextBodyChunk`).
        let chunked = exchange.framing.chunked || (exchange.requestChunks != nil && exchange.request.hasBody)
        let upgrade = keepingUpgrade ? head.headers["upgrade"] : []
        HopByHopHeaders.strip(&head.headers)
        HTTPUpgrade.restore(upgrade, into: &head.headers)
        if head.version != .http1_1 {
            // Only HTTP/1.0 may come without `Host` (the edge refuses it elsewhere), and an
            // HTTP/1.1 request must have one: the endpoint's, as nginx's `$proxy_host`.
            if !head.headers.contains(name: "host"), let target = exchange.upstreamTarget {
                head.headers.add(name: "host", value: target)
            }
            head.version = .http1_1
        }
        if exchange.request.isWanted, exchange.request.isComplete {
            head.headers.setContentLength(exchange.request.bufferedBytes)
        } else if chunked, !head.headers.contains(name: "content-length") {
            head.headers.add(name: "transfer-encoding", value: "chunked")
        }
        if let ip = exchange.peer.remoteIP {
            if let existing = head.headers.first(name: "x-forwarded-for") {
                head.headers.replaceOrAdd(name: "x-forwarded-for", value: "\(existing), \(ip)")
            } else {
                head.headers.add(name: "x-forwarded-for", value: ip)
            }
        }
        if !head.headers.contains(name: "x-forwarded-proto") {
            head.headers.add(name: "x-forwarded-proto", value: exchange.tls == nil ? "http" : "https")
        }
        return head
    }
}
