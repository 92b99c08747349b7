import NIOHTTP1

/// RFC 9110 §7.6.1: connection-specific fields are for one hop and are not forwarded.
enum HopByHopHeaders {
    private static let names = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    static func strip(_ headers: inout HTTPHeaders) {
        // `te: trailers` is the one TE value that travels (as Envoy keeps it): gRPC servers
        // require it, and HTTP/2 allows no other.
        let wantsTrailers = headers[canonicalForm: "te"].contains { $0.lowercased() == "trailers" }
        for option in headers[canonicalForm: "connection"] {
            headers.remove(name: String(option))
        }
        for name in names where headers.contains(name: name) {
            headers.remove(name: name)
        }
        if wantsTrailers { headers.add(name: "te", value: "trailers") }
    }
}
