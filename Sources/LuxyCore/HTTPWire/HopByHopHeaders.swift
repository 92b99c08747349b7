import LuxyConfig
import NIOHTTP1

/// RFC 9110 §7.6.1: connection-specific fields are for one hop and are not forwarded.
/// Removed in place: a head with none (or with only the usual `connection: keep-alive`)
/// costs one pass over its fields and no allocation.
enum HopByHopHeaders {
    /// Lower-case names; a field's index here is its bit in the mask `strip` collects.
    private static let staticNames: [StaticString] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "proxy-authenticate", "proxy-authorization",
        // The settings of an h2c upgrade, which is never passed on.
        "http2-settings",
    ]
    private static let names: [String] = staticNames.map { $0.description }
    /// Where `connection` (whose options name more fields to drop) and `te` (whose `trailers`
    /// travels on) stand in `names`.
    private static let connectionIndex = 0
    private static let teIndex = 3

    static func strip(_ headers: inout HTTPHeaders) {
        var present: UInt16 = 0
        var wantsTrailers = false
        /// Fields named by `Connection` options that are not hop-by-hop already (rare).
        var named: [String] = []
        for (name, value) in headers {
            guard let index = hopByHopIndex(name) else { continue }
            present |= 1 << index
            if index == connectionIndex {
                _ = value.forEachListElement { option in
                    // Never `content-length` or `host`: framing and routing depend on them,
                    // and dropping `content-length` would let a body be read upstream as a
                    // second request.
                    if option.isEmpty || option.equalsIgnoringASCIICase("close") || hopByHopIndex(option) != nil
                        || option.equalsIgnoringASCIICase("content-length") || option.equalsIgnoringASCIICase("host") {
                        return false
                    }
                    named.append(option.lowercased())
                    return false
                }
            } else if index == teIndex {
                // `te: trailers` is the one TE value that travels (as Envoy keeps it): gRPC
                // servers require it, and HTTP/2 allows no other.
                wantsTrailers = wantsTrailers || value.containsListToken("trailers")
            }
        }
        guard present != 0 else { return }
        for (index, name) in names.enumerated() where present & (1 << index) != 0 {
            headers.remove(name: name)
        }
        for name in named { headers.remove(name: name) }
        if wantsTrailers { headers.add(name: "te", value: "trailers") }
    }

    /// What a reader of a head's bytes (`HTTP1FieldBlock.read`) does with a field it reads.
    enum ReadAction {
        case keep
        /// Hop-by-hop: left out, with no String made for it.
        case drop
        /// Hop-by-hop, but only `strip` knows what to do with it: `te` (its `trailers` travels
        /// on), or a `connection` naming other fields (which may have come before it).
        case keepForStrip
    }

    /// The rule `strip` applies, for a field read from bytes: `name` in any case;
    /// `connectionNamesOtherFields`, whether a `connection` field lists more than `close`,
    /// `keep-alive` and `upgrade`.
    static func readAction(forFieldNamed name: UnsafeRawBufferPointer, connectionNamesOtherFields: Bool)
        -> ReadAction {
        guard let index = index(of: name) else { return .keep }
        if index == teIndex || (index == connectionIndex && connectionNamesOtherFields) { return .keepForStrip }
        return .drop
    }

    private static func hopByHopIndex<Name: StringProtocol>(_ name: Name) -> Int? {
        name.withUTF8Bytes { index(of: UnsafeRawBufferPointer($0)) }
    }

    /// `name`'s place in `names`, compared ASCII case-insensitively; nil when it is not one.
    private static func index(of name: UnsafeRawBufferPointer) -> Int? {
        switch name.count {
        case 2, 7, 10, 14, 16, 17, 18, 19:
            return staticNames.firstIndex { HTTP1FieldBlock.equalsLowercase(name, $0) }
        default:
            return nil
        }
    }
}
