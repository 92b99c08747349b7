import LuxyConfig

/// The grammar of a request target and of an authority (RFC 9112 §3.2, RFC 3986 §3.2),
/// checked byte by byte without allocating. Pure functions; no state.
enum RequestTargetSyntax {
    /// `/path?query`: visible ASCII only (NIO's parser already refuses controls, space and
    /// 8-bit bytes on HTTP/1.1; an h2 `:path` is checked here too), no fragment (`#` never
    /// travels in a request: a backend could cut the path there while we route on all of it),
    /// and every `%` in the path followed by two hex digits, so no backend decodes it another
    /// way. The query's `%` is the application's business, as nginx leaves it.
    static func isValidOriginForm<Target: StringProtocol>(_ target: Target) -> Bool {
        target.withUTF8Bytes { isValidOriginForm(bytes: $0) }
    }

    private static func isValidOriginForm(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.first == UInt8(ascii: "/") else { return false }
        var inQuery = false
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            guard byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "#") else { return false }
            if byte == UInt8(ascii: "?") {
                inQuery = true
            } else if byte == UInt8(ascii: "%"), !inQuery {
                var digits = 0
                var next = bytes.index(after: index)
                while digits < 2, next != bytes.endIndex, bytes[next].isHexDigit {
                    digits += 1
                    next = bytes.index(after: next)
                }
                guard digits == 2 else { return false }
            }
            index = bytes.index(after: index)
        }
        return true
    }

    /// `host[:port]` where host is a registered name, an IPv4 address or a bracketed IPv6
    /// literal. Refuses what would let one request name two hosts: `@` (userinfo), `/`,
    /// space, an empty host, a port that is not a number.
    static func isValidAuthority<Authority: StringProtocol>(_ authority: Authority) -> Bool {
        authority.withUTF8Bytes { isValidAuthority(bytes: $0) }
    }

    private static func isValidAuthority(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        var portStart: Int
        if first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let literal = bytes[bytes.index(after: bytes.startIndex)..<close]
            guard !literal.isEmpty, literal.allSatisfy({ $0.isHexDigit || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") })
            else { return false }
            portStart = bytes.index(after: close)
            if portStart != bytes.endIndex {
                guard bytes[portStart] == UInt8(ascii: ":") else { return false }
            }
        } else {
            let colon = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
            let host = bytes[bytes.startIndex..<colon]
            guard !host.isEmpty, isRegisteredName(host) else { return false }
            portStart = colon
        }
        guard portStart != bytes.endIndex else { return true }
        let port = bytes[bytes.index(after: portStart)...]
        guard port.count <= 5, port.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return false }
        return port.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 65535
    }

    /// reg-name = *( unreserved / pct-encoded / sub-delims ); an IPv4 address is one too.
    private static func isRegisteredName<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var pendingHexDigits = 0
        for byte in bytes {
            if pendingHexDigits > 0 {
                guard byte.isHexDigit else { return false }
                pendingHexDigits -= 1
                continue
            }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
                 UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
                 UInt8(ascii: "="):
                continue
            case UInt8(ascii: "%"):
                pendingHexDigits = 2
            default:
                return false
            }
        }
        return pendingHexDigits == 0
    }

    /// `http://authority/path?query` (or `https`), split; nil for any other form or scheme.
    struct AbsoluteForm {
        var authority: Substring
        /// Origin-form: `/` when the target had no path.
        var pathAndQuery: String

        init?(_ target: String) {
            guard let schemeEnd = target.range(of: "://") else { return nil }
            let scheme = target[..<schemeEnd.lowerBound]
            guard scheme.equalsIgnoringASCIICase("http") || scheme.equalsIgnoringASCIICase("https") else { return nil }
            let rest = target[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
            authority = rest[..<authorityEnd]
            let tail = rest[authorityEnd...]
            pathAndQuery = tail.first == "/" ? String(tail) : "/" + tail
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
