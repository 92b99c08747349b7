import NIOCore
import NIOHTTP1

/// Reads the common client request in one pass over its bytes: a method of the usual seven,
/// an origin-form target, HTTP/1.1 or 1.0, a head whole in the buffer within the listener's
/// limits, and a body framed by `content-length` (or none). Anything else is `.notSimple`
/// and goes to NIO's llhttp decoder, which answers it as before (400, 431, an upgrade, a
/// chunked body): every irregular byte, an absolute or asterisk target, an unknown method,
/// `transfer-encoding`, a second `content-length`, `upgrade`, a request that closes the
/// connection, a second `host`, a field name with an underscore. So this path accepts a
/// strict subset of what llhttp accepts, reads it as llhttp would, and never decides a
/// doubtful request itself: the smuggling defences stay llhttp's and the head validator's,
/// which checks every head either way (these from the facts taken as their fields were
/// read, `RequestHeadFacts`).
///
/// A value type with no state: a namespace of pure functions.
enum RequestHeadParser {
    struct ParsedHead {
        var head: HTTPRequestHead
        /// Bytes of the request line and fields, the blank line included.
        var headLength: Int
        var bodyLength: Int
        var facts: RequestHeadFacts
    }

    enum Outcome {
        case parsed(ParsedHead)
        case notSimple
    }

    /// `maxHeadBytes` and `maxFields`: the listener's limits (a head past them goes to
    /// llhttp, which answers 431). `strings`: the loop's recent long field strings.
    static func parse(_ buffer: ByteBuffer, maxHeadBytes: Int, maxFields: Int,
                      strings: RepeatedFieldStrings? = nil) -> Outcome {
        buffer.withUnsafeReadableBytes { bytes in
            parse(bytes, of: buffer, maxHeadBytes: maxHeadBytes, maxFields: maxFields, strings: strings)
                .map(Outcome.parsed) ?? .notSimple
        }
    }

    /// `bytes`: `buffer`'s readable bytes, of which a head that may go upstream as it came
    /// keeps a slice.
    private static func parse(_ bytes: UnsafeRawBufferPointer, of buffer: ByteBuffer, maxHeadBytes: Int, maxFields: Int,
                              strings: RepeatedFieldStrings?) -> ParsedHead? {
        let end = min(bytes.count, maxHeadBytes)
        guard let (method, methodLength) = method(bytes, end: end) else { return nil }
        // method SP origin-form SP "HTTP/1.x" CRLF
        var index = methodLength
        guard index + 1 < end, bytes[index] == UInt8(ascii: " "), bytes[index + 1] == UInt8(ascii: "/") else { return nil }
        index += 1
        let targetStart = index
        while index < end, isTargetByte(bytes[index]) { index += 1 }
        let target = UnsafeRawBufferPointer(rebasing: bytes[targetStart..<index])
        guard index + 9 < end, bytes[index] == UInt8(ascii: " "), bytes[index + 1] == UInt8(ascii: "H"),
              bytes[index + 2] == UInt8(ascii: "T"), bytes[index + 3] == UInt8(ascii: "T"),
              bytes[index + 4] == UInt8(ascii: "P"), bytes[index + 5] == UInt8(ascii: "/"),
              bytes[index + 6] == UInt8(ascii: "1"), bytes[index + 7] == UInt8(ascii: ".")
        else { return nil }
        let version: HTTPVersion
        switch bytes[index + 8] {
        case UInt8(ascii: "1"): version = .http1_1
        case UInt8(ascii: "0"): version = .http1_0
        default: return nil
        }
        var fields = HTTP1FieldStrings(strings: strings)
        guard let afterRequestLine = HTTP1FieldBlock.lineEnd(bytes, at: index + 9, end: end),
              let block = HTTP1FieldBlock.read(bytes, from: afterRequestLine, end: end, maxFields: maxFields,
                                              droppingHopByHop: false, into: &fields),
              !block.hasUpgrade, !block.saysUpgrade,
              // A request that closes the connection: llhttp refuses what follows it on the
              // connection (the handler counts and stops reading), so it reads this one.
              block.keepsAlive(http11: version == .http1_1),
              // What the edge refuses or changes (a second Host, a name with an underscore)
              // takes the general path, so the survey handed on needs no list of names.
              block.hostCount <= 1, !block.hasUnderscoreName
        else { return nil }
        let head = HTTPRequestHead(version: version, method: method, uri: String(decoding: target, as: UTF8.self),
                                   headers: HTTPHeaders(fields.fields))
        var survey = RequestHeadValidator.FieldSurvey()
        survey.count = fields.fields.count
        survey.hostCount = block.hostCount
        survey.firstHost = block.hostIndex.map { fields.fields[$0].1 }
        // An HTTP/1.0 server must ignore an expectation (RFC 9110 §10.1.1), as `RequestFraming` does.
        let framing = RequestFraming(contentLength: block.contentLength,
                                     expectsContinue: version == .http1_1 && block.expectsContinue)
        var facts = RequestHeadFacts(framing: framing, fields: survey, keepAlive: block.keepsAlive(http11: version == .http1_1))
        // What `UpstreamRequestHead.make` would change but for the forwarding fields: the
        // version, hop-by-hop fields, an `x-forwarded-for` appended to, an `expect` the
        // handler answers, and the chunked framing the encoder gives a POST, PUT or PATCH
        // without a length. A head that changes none of them keeps its bytes (but the blank
        // line), a slice of the read, not a copy.
        let bodyWithoutLength = block.contentLength == nil && (method == .POST || method == .PUT || method == .PATCH)
        if version == .http1_1, !block.hasHopByHop, !block.hasForwardedFor, !framing.expectsContinue, !bodyWithoutLength,
           let kept = buffer.getSlice(at: buffer.readerIndex, length: block.headLength - 2) {
            facts.asItCame = RequestHeadAsItCame(bytes: kept, hasForwardedProto: block.hasForwardedProto,
                                                 hasContentLength: block.contentLength != nil)
        }
        return ParsedHead(head: head, headLength: block.headLength, bodyLength: block.contentLength ?? 0, facts: facts)
    }

    private static func method(_ bytes: UnsafeRawBufferPointer, end: Int) -> (HTTPMethod, Int)? {
        func starts(with text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard count <= end else { return false }
            let expected = UnsafeRawBufferPointer(start: text.utf8Start, count: count)
            for offset in 0..<count where bytes[offset] != expected[offset] { return false }
            return true
        }
        if starts(with: "GET") { return (.GET, 3) }
        if starts(with: "POST") { return (.POST, 4) }
        if starts(with: "HEAD") { return (.HEAD, 4) }
        if starts(with: "PUT") { return (.PUT, 3) }
        if starts(with: "DELETE") { return (.DELETE, 6) }
        if starts(with: "PATCH") { return (.PATCH, 5) }
        if starts(with: "OPTIONS") { return (.OPTIONS, 7) }
        return nil
    }

    /// RFC 3986's unreserved and reserved characters and `%`: what an origin-form target is
    /// made of. Everything else a target may hold in practice (`"`, `<`, `\`, `{`, `|`, a
    /// fragment's `#`, …) is left to llhttp and the head validator.
    private static func isTargetByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("),
             UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"),
             UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"),
             UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }
}
