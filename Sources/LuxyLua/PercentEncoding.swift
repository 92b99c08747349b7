/// Percent-encoding (RFC 3986 §2.1) of URL components and query strings, for `luxy.url`.
enum PercentEncoding {
    /// One `name=value` of a query string; `value` is nil for a bare `name`.
    struct QueryPair {
        var name: [UInt8]
        var value: [UInt8]?
    }

    private static let hex = Array("0123456789ABCDEF".utf8)

    /// Everything but the unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
    static func escape(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            if isUnreserved(byte) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `%XX` back to its byte (a `%` not followed by two hex digits stays as is); `+` to a
    /// space in query strings (HTML forms write spaces so).
    static func unescape(_ bytes: [UInt8], plusIsSpace: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "%"), i + 2 < bytes.count, let high = hexValue(bytes[i + 1]),
               let low = hexValue(bytes[i + 2]) {
                out.append(high << 4 | low)
                i += 3
                continue
            }
            out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            i += 1
        }
        return out
    }

    /// `a=1&b&c=%20` → pairs in order; empty parts (`a=1&&b=2`) are skipped.
    static func parseQuery(_ query: [UInt8]) -> [QueryPair] {
        var body = query[...]
        if body.first == UInt8(ascii: "?") { body = body.dropFirst() }
        return body.split(separator: UInt8(ascii: "&")).map { part in
            if let equals = part.firstIndex(of: UInt8(ascii: "=")) {
                return QueryPair(name: unescape(Array(part[..<equals]), plusIsSpace: true),
                                 value: unescape(Array(part[part.index(after: equals)...]), plusIsSpace: true))
            }
            return QueryPair(name: unescape(Array(part), plusIsSpace: true), value: nil)
        }
    }

    static func buildQuery(_ pairs: [QueryPair]) -> String {
        pairs.map { pair in
            guard let value = pair.value else { return escape(pair.name) }
            return escape(pair.name) + "=" + escape(value)
        }.joined(separator: "&")
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
             UInt8(ascii: "~"):
            true
        default: false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
