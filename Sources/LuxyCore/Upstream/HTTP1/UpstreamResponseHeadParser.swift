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
    /// A head read, as an `HTTPResponseHead` (`parse`) or as the bytes it goes on as
    /// (`parseForwarding`), and how its message is framed.
    struct Parsed<Head> {
        var head: Head
        /// Neither an HTTP/1.1 `connection: close` nor an HTTP/1.0 without `keep-alive`: read
        /// here from the bytes (asking the head would split its `connection` values into a
        /// new array).
        var keepAlive: Bool
        /// Bytes of the status line and fields as they came, the blank line included.
        var headLength: Int
        var bodyLength: Int
        /// Read `droppingHopByHop`: hop-by-hop fields are still in `head` for
        /// `HopByHopHeaders.strip` (`HTTP1FieldBlock.keptHopByHop`). Always true otherwise,
        /// and never for a forwarded head (such a head is `parse`'s).
        var hopByHopLeft: Bool
    }

    typealias ParsedHead = Parsed<HTTPResponseHead>
    typealias ParsedForwardedHead = Parsed<ForwardedResponseHead>

    enum Outcome {
        case parsed(ParsedHead)
        case notSimple
    }

    /// Longer heads go to llhttp, whose limits apply to them.
    static let maxHeadBytes = 16 * 1024
    static let maxFields = 100

    /// `strings`: the pool's recent long field strings. `droppingHopByHop`: the head comes
    /// without its hop-by-hop fields where the bytes alone say how (`hopByHopLeft` false).
    static func parse(_ buffer: ByteBuffer, respondingTo method: HTTPMethod,
                      strings: RepeatedFieldStrings? = nil, droppingHopByHop: Bool = false) -> Outcome {
        buffer.withUnsafeReadableBytes { bytes in
            parse(bytes, respondingTo: method, strings: strings, droppingHopByHop: droppingHopByHop)
                .map(Outcome.parsed) ?? .notSimple
        }
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, respondingTo method: HTTPMethod,
                              strings: RepeatedFieldStrings?, droppingHopByHop: Bool) -> ParsedHead? {
        var fields = HTTP1FieldStrings(strings: strings)
        guard let read = read(bytes, respondingTo: method, droppingHopByHop: droppingHopByHop, into: &fields)
        else { return nil }
        let head = HTTPResponseHead(version: read.version, status: HTTPResponseStatus(statusCode: read.code),
                                    headers: HTTPHeaders(fields.fields))
        return ParsedHead(head: head, keepAlive: read.block.keepsAlive(http11: read.version == .http1_1),
                          headLength: read.block.headLength, bodyLength: read.bodyLength,
                          hopByHopLeft: !droppingHopByHop || read.block.keptHopByHop)
    }

    enum ForwardingOutcome {
        case parsed(ParsedForwardedHead)
        /// `parse` is to read it; the buffer it was given comes back, to be kept for a later head.
        case parseInstead(unused: ByteBuffer)
    }

    /// The common response as `parse` reads it, its hop-by-hop fields left out, written into
    /// `output` (an empty buffer) as the client gets it rather than into a head: a status line
    /// with the standard reason, then the fields kept, byte for byte what encoding the head
    /// `parse` returns would write (but for value bytes that are not UTF-8, which go on as they
    /// came: `HTTP1FieldLineWriter`). `parse` is to read instead what it would not take, a
    /// HEAD's answer, 204 and 304 (their framing fields are rewritten), and a head whose
    /// hop-by-hop fields only `HopByHopHeaders.strip` can remove.
    ///
    /// `output` is taken, not copied: a second reference to its memory would make the first
    /// write copy it (`ByteBuffer` copies on write).
    static func parseForwarding(_ buffer: ByteBuffer, respondingTo method: HTTPMethod,
                                into output: consuming ByteBuffer) -> ForwardingOutcome {
        var lines = HTTP1FieldLineWriter(buffer: consume output)
        let status = buffer.withUnsafeReadableBytes { bytes -> HTTPResponseStatus? in
            guard method != .HEAD, bytes.count >= 15, let code = statusCode(bytes[9], bytes[10], bytes[11]),
                  code != 204, code != 304
            else { return nil }
            return HTTPResponseStatus(statusCode: code)
        }
        guard let status else { return .parseInstead(unused: lines.buffer) }
        // The status line goes first; `read` checks the one that came.
        lines.buffer.writeStatusLine(version: .http1_1, status: status)
        let read = buffer.withUnsafeReadableBytes { bytes in
            Self.read(bytes, respondingTo: method, droppingHopByHop: true, into: &lines)
        }
        guard let read, !read.block.keptHopByHop else { return .parseInstead(unused: lines.buffer) }
        return .parsed(ParsedForwardedHead(head: ForwardedResponseHead(status: status, bytes: lines.buffer),
                                           keepAlive: read.block.keepsAlive(http11: read.version == .http1_1),
                                           headLength: read.block.headLength, bodyLength: read.bodyLength,
                                           hopByHopLeft: false))
    }

    /// What a head's bytes said, whichever sink took its fields.
    private struct ReadHead {
        var version: HTTPVersion
        var code: Int
        var block: HTTP1FieldBlock
        var bodyLength: Int
    }

    private static func read<Sink: HTTP1FieldSink>(_ bytes: UnsafeRawBufferPointer, respondingTo method: HTTPMethod,
                                                   droppingHopByHop: Bool, into sink: inout Sink) -> ReadHead? {
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
        while index < end, HTTP1FieldBlock.isFieldValueByte(bytes[index]) { index += 1 }
        guard let afterStatusLine = HTTP1FieldBlock.lineEnd(bytes, at: index, end: end),
              let block = HTTP1FieldBlock.read(bytes, from: afterStatusLine, end: end, maxFields: maxFields,
                                              droppingHopByHop: droppingHopByHop, into: &sink)
        else { return nil }
        let contentLength = block.contentLength

        let bodyLength: Int
        if code == 204 || code == 304 {
            // No content, whatever the request; a 204 declaring some is not simple.
            guard code == 304 || (contentLength ?? 0) == 0 else { return nil }
            bodyLength = 0
        } else if method == .HEAD {
            bodyLength = 0
        } else if method == .CONNECT {
            // A 2xx to CONNECT starts a tunnel (NIO's decoder reads no body): its case.
            return nil
        } else {
            // Without a length the body runs to the connection's close: llhttp's case.
            guard let contentLength else { return nil }
            bodyLength = contentLength
        }
        return ReadHead(version: version, code: code, block: block, bodyLength: bodyLength)
    }

    private static func statusCode(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        let zero = UInt8(ascii: "0")
        guard (zero...zero + 5).contains(a), (zero...zero + 9).contains(b), (zero...zero + 9).contains(c) else { return nil }
        return Int(a - zero) * 100 + Int(b - zero) * 10 + Int(c - zero)
    }
}
