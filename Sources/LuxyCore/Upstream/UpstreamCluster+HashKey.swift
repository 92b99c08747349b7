import LuxyConfig
import NIOHTTP1

/// `ring_hash`'s and `maglev`'s key for a request, from the cluster's `hash_policy`: the first policy the
/// request has a value for gives it (Envoy combines them; one is what a sidecar needs).
extension UpstreamCluster {
    func hashKey(for head: HTTPRequestHead, peer: ConnectionPeer) -> UInt64? {
        guard config.loadBalancing.isHashBased else { return nil }
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

    static func cookie(named name: String, in headers: HTTPHeaders) -> Substring? {
        for line in headers["cookie"] {
            for pair in line.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
                return trimmed[trimmed.index(after: equals)...]
            }
        }
        return nil
    }
}
