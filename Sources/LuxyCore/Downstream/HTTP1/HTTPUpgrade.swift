import NIOHTTP1

/// HTTP/1.1 `Upgrade` (RFC 9110 §7.8) as Luxy handles it: `websocket` is tunnelled to an
/// HTTP/1.1 cluster; anything else (`h2c` included) is served as plain HTTP/1.1 with the
/// upgrade stripped like any hop-by-hop field.
enum HTTPUpgrade {
    enum Progress {
        case none
        /// The upstream request carries the WebSocket upgrade.
        case requested
        /// The upstream answered 101.
        case accepted
    }

    /// The request asks to switch protocols: an `Upgrade` field, and `upgrade` among the
    /// `Connection` options. NIO's decoder parses nothing after such a request (whatever
    /// follows may be the new protocol), so the connection cannot carry another request.
    static func isUpgradeRequest(_ headers: HTTPHeaders) -> Bool {
        headers.contains(name: "upgrade") && headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// Puts back what `HopByHopHeaders.strip` dropped from a message that does switch: the
    /// `Upgrade` value and `Connection: upgrade`.
    static func restore(_ upgrade: [String], into headers: inout HTTPHeaders) {
        guard !upgrade.isEmpty else { return }
        headers.add(name: "connection", value: "upgrade")
        for value in upgrade { headers.add(name: "upgrade", value: value) }
    }
}
