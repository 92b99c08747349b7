import NIOHTTP1

/// RFC 9110 §7.6.1: connection-specific fields are for one hop and are not forwarded.
enum HopByHopHeaders {
    private static let names: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
    ]

    /// Fields a `Connection` option must never remove: framing and routing depend on them,
    /// and dropping `content-length` would let a body be read upstream as a second request.
    private static let protected: Set<String> = ["content-length", "host"]

    static func strip(_ headers: inout HTTPHeaders) {
        var named: Set<String> = []
        var wantsTrailers = false
        var found = false
        for (name, value) in headers {
            let lower = name.lowercased()
            guard names.contains(lower) else { continue }
            found = true
            if lower == "connection" {
                for option in value.split(separator: ",") {
                    let option = option.trimmingSpaces().lowercased()
                    if !option.isEmpty, !protected.contains(option) { named.insert(option) }
                }
            } else if lower == "te" {
                // `te: trailers` is the one TE value that travels (as Envoy keeps it): gRPC
                // servers require it, and HTTP/2 allows no other.
                wantsTrailers = wantsTrailers || value.split(separator: ",").contains { $0.trimmingSpaces().lowercased() == "trailers" }
            }
        }
        guard found else { return }
        headers = HTTPHeaders(headers.filter { field in
            let lower = field.name.lowercased()
            return !names.contains(lower) && !named.contains(lower)
        }.map { ($0.name, $0.value) })
        if wantsTrailers { headers.add(name: "te", value: "trailers") }
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
