import LuxyConfig
import NIOHTTP1

/// `ring_hash`'s and `maglev`'s key for a request, from the cluster's `hash_policy`: the first policy the
/// request has a value for gives it (Envoy combines them; one is what a sidecar needs).
extension UpstreamCluster {
    /// The exchange rather than its head and peer: a cluster that does not hash (most) reads
    /// neither, and a copy of the head made to pass it cost two retains and releases.
    func hashKey(for exchange: HTTPExchange) -> UInt64? {
        guard config.loadBalancing.isHashBased else { return nil }
        let head = exchange.requestHead
        let peer = exchange.peer
        for policy in config.hashPolicy {
            switch policy {
            case .header(let name):
                if let value = head.headers.first(name: name) { return ConsistentHashRing.hash(value) }
            case .cookie(let name):
                if let value = Self.cookie(named: name, in: head.headers) { return ConsistentHashRing.hash(bytes: value.utf8) }
            case .sourceIP:
                if let ip = peer.remoteIP { return ConsistentHashRing.hash(ip) }
            case .path:
                let uri = head.uri.utf8
                let path = uri.firstIndex(of: UInt8(ascii: "?")).map { uri[..<$0] } ?? uri[...]
                return ConsistentHashRing.hash(bytes: path)
            }
        }
        return nil
    }

    /// The value of cookie `name` in the request's `cookie` lines. Walks the lines in place:
    /// `headers["cookie"]` and `split` would allocate arrays on every request.
    static func cookie(named name: String, in headers: HTTPHeaders) -> Substring? {
        for (field, line) in headers where field.equalsIgnoringASCIICase("cookie") {
            var rest = line[...]
            while true {
                let semicolon = rest.utf8.firstIndex(of: UInt8(ascii: ";"))
                let pair = rest[..<(semicolon ?? rest.endIndex)].trimmingHTTPSpaces()
                if let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")), pair[..<equals] == name {
                    return pair[pair.utf8.index(after: equals)...]
                }
                guard let semicolon else { break }
                rest = rest[rest.utf8.index(after: semicolon)...]
            }
        }
        return nil
    }
}
