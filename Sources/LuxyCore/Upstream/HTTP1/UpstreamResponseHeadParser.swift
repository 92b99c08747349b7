import NIOCore
import NIOHTTP1

/// Reads the common upstream response in one pass over its bytes: a final status (200–599),
/// a head whole in the buffer, and a body framed by `content-length` (or none, for a HEAD
/// request, 204 and 304). Anything else is `.notSimple`, and NIO's llhttp decoder reads it:
/// a 1xx or 101, chunked or close-delimited bodies, a head split over reads, and every
/// irregularity (obs-fold, a bare LF, a second `content-length`, bytes a token may not
/// hold). So this path accepts a subset of what llhttp accepts and never decides a doubtful
/// case itself: that is what keeps a pooled connection from being desynchronised by an
/// upstream that frames its responses ambiguously.
///
/// A value type with no state: a namespace of pure functions.
enum UpstreamResponseHeadParser {
    struct ParsedHead {
        var head: HTTPResponseHead
        /// Neither an HTTP/1.1 `connection: close` nor an HTTP/1.0 without `keep-alive`: read
        /// here from the bytes, as llhttp tells NIO's decoder (asking the head would split
        /// its `connection` values into a new array).
        var keepAlive: Bool
        /// Bytes of the status line and fields, the blank line included.
        var headLength: Int
        var bodyLength: Int
    }

    enum Outcome {
        case parsed(ParsedHead)
        case notSimple
    }

    /// Longer heads go to llhttp, whose limits apply to them.
    static let maxHeadBytes = 16 * 1024
    static let maxFields = 100

    static func parse(_ buffer: ByteBuffer, respondingTo method: HTTPMethod) -> Outcome {
        buffer.withUnsafeReadableBytes { bytes in
            parse(bytes, respondingTo: method).map(Outcome.parsed) ?? .notSimple
        }
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, respondingTo method: HTTPMethod) -> ParsedHead? {
        let end = min(bytes.count, maxHeadBytes)
        // "HTTP/1.x NNN " at least, then the reason up to CRLF.
        guard end >= 15, bytes[0] == UInt8(ascii: "H"), bytes[1] == UInt8(ascii: "T"), bytes[2] == UInt8(ascii: "T"),
              bytes[3] == UInt8(ascii: "P"), bytes[4] == UInt8(ascii: "/"), bytes[5] == UInt8(ascii: "1"),
              bytes[6] == UInt8(ascii: "."), bytes[8] == UInt8(ascii: " "), bytes[12] == UInt8(ascii: " ")
        else { return nil }
        let version: HTTPVersion
        switch bytes[7] {
        case UInt8(ascii: "1"): version = .http1_1
        case UInt8(ascii: "0"): version = .http1_0
        default: return nil
        }
        guard let code = statusCode(bytes[9], bytes[10], bytes[11]), code >= 200 else { return nil }
        var index = 13
        // The reason phrase (HTAB, SP, VCHAR, obs-text) is checked and dropped, as NIO's
        // decoder drops it: the client gets the standard one.
        while index < end, isFieldValueByte(bytes[index]) { index += 1 }
        guard let afterStatusLine = lineEnd(bytes, at: index, end: end) else { return nil }
        index = afterStatusLine

        var fields: [(String, String)] = []
        fields.reserveCapacity(16)
        var contentLength: Int?
        var saysClose = false
        var saysKeepAlive = false
        while true {
            guard index < end else { return nil }
            if bytes[index] == UInt8(ascii: "\r") {
                guard let headEnd = lineEnd(bytes, at: index, end: end) else { return nil }
                index = headEnd
                break
            }
            guard fields.count < maxFields else { return nil }
            // name ":" OWS value OWS CRLF; a line starting with SP or HTAB (obs-fold) is not a token.
            let nameStart = index
            while index < end, isTokenByte(bytes[index]) { index += 1 }
            guard index > nameStart, index < end, bytes[index] == UInt8(ascii: ":") else { return nil }
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<index])
            index += 1
            while index < end, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            let valueStart = index
            while index < end, isFieldValueByte(bytes[index]) { index += 1 }
            var valueEnd = index
            while valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: " ") || bytes[valueEnd - 1] == UInt8(ascii: "\t") {
                valueEnd -= 1
            }
            guard let next = lineEnd(bytes, at: index, end: end) else { return nil }
            index = next
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            if equalsLowercase(name, "content-length") {
                guard contentLength == nil, let length = decimal(value) else { return nil }
                contentLength = length
            } else if equalsLowercase(name, "transfer-encoding") {
                return nil
            } else if equalsLowercase(name, "connection") {
                forEachToken(value) { token in
                    if equalsLowercase(token, "close") { saysClose = true }
                    if equalsLowercase(token, "keep-alive") { saysKeepAlive = true }
                }
            }
            fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }

        let bodyLength: Int
        if code == 204 || code == 304 {
            // No content, whatever the request; a 204 declaring some is not simple.
            guard code == 304 || (contentLength ?? 0) == 0 else { return nil }
            bodyLength = 0
        } else if method == .HEAD {
            bodyLength = 0
        } else {
            // Without a length the body runs to the connection's close: llhttp's case.
            guard let contentLength else { return nil }
            bodyLength = contentLength
        }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: code),
                                    headers: HTTPHeaders(fields))
        let keepAlive = !saysClose && (version == .http1_1 || saysKeepAlive)
        return ParsedHead(head: head, keepAlive: keepAlive, headLength: index, bodyLength: bodyLength)
    }

    /// The comma-separated elements of a list value, without their surrounding spaces.
    private static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != UInt8(ascii: ",") { end += 1 }
            var first = start, last = end
            while first < last, value[first] == UInt8(ascii: " ") || value[first] == UInt8(ascii: "\t") { first += 1 }
            while last > first, value[last - 1] == UInt8(ascii: " ") || value[last - 1] == UInt8(ascii: "\t") { last -= 1 }
            body(UnsafeRawBufferPointer(rebasing: value[first..<last]))
            start = end + 1
        }
    }

    private static func statusCode(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        let zero = UInt8(ascii: "0")
        guard (zero...zero + 5).contains(a), (zero...zero + 9).contains(b), (zero...zero + 9).contains(c) else { return nil }
        return Int(a - zero) * 100 + Int(b - zero) * 10 + Int(c - zero)
    }

    /// The index after the CRLF at `index`; nil for anything else there (a bare LF, a NUL,
    /// a byte a field may not hold, or the end of what is in the buffer).
    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, at index: Int, end: Int) -> Int? {
        guard index + 1 < end, bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") else { return nil }
        return index + 2
    }

    /// 1 to 18 digits: no sign, no spaces, no list (a list is a second length: llhttp's case).
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        for (byte, want) in zip(bytes, expected) where byte | 0x20 != want {
            return false
        }
        return true
    }

    /// RFC 9110 tchar.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// HTAB, SP, VCHAR and obs-text: what a field value (or a reason phrase) may hold.
    private static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }
}
