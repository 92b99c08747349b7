import NIOHTTP1

/// RFC 9110 §7.6.1: connection-specific fields are for one hop and are not forwarded.
enum HopByHopHeaders {
    /// Lower-case names, compared without allocating: this runs on every request and response.
    private static let names: [String] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Fields a `Connection` option must never remove: framing and routing depend on them,
    /// and dropping `content-length` would let a body be read upstream as a second request.
    private static let protected: Set<String> = ["content-length", "host"]

    static func strip(_ headers: inout HTTPHeaders) {
        guard headers.contains(where: { isHopByHop($0.name) }) else { return }
        var named: Set<String> = []
        var wantsTrailers = false
        for (name, value) in headers where isHopByHop(name) {
            if name.equalsIgnoringCase("connection") {
                for option in value.split(separator: ",") {
                    let option = option.trimmingSpaces().lowercased()
                    if !option.isEmpty, !protected.contains(option) { named.insert(option) }
                }
            } else if name.equalsIgnoringCase("te") {
                // `te: trailers` is the one TE value that travels (as Envoy keeps it): gRPC
                // servers require it, and HTTP/2 allows no other.
                wantsTrailers = wantsTrailers
                    || value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == "trailers" }
            }
        }
        headers = HTTPHeaders(headers.filter { field in
            !isHopByHop(field.name) && (named.isEmpty || !named.contains(field.name.lowercased()))
        }.map { ($0.name, $0.value) })
        if wantsTrailers { headers.add(name: "te", value: "trailers") }
    }

    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2, 7, 10, 16, 17, 18, 19: return names.contains { name.equalsIgnoringCase($0) }
        default: return false
        }
    }
}

extension String {
    /// ASCII case-insensitive equality with a lower-case `other`, without allocating.
    fileprivate func equalsIgnoringCase(_ other: String) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { a, b in
            (a >= 65 && a <= 90 ? a | 0x20 : a) == b
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
