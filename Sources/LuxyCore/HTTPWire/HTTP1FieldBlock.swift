/// The field lines of an HTTP/1.1 head read from its bytes, for the fast paths that read the
/// common message themselves (`UpstreamResponseHeadParser`, `RequestHeadParser`). Strict:
/// anything irregular (obs-fold, a bare LF, a byte a name or value may not hold, a second
/// or list-valued `content-length`, any `transfer-encoding` or `proxy-connection`, spaces
/// after a framing field's value) makes `read` return nil, and the message goes to llhttp,
/// which decides it. Values come out as llhttp gives them to NIO: leading spaces dropped,
/// trailing ones kept. The framing facts a fast path needs are taken on the way, so nothing
/// scans the fields again for them.
///
/// A value made and read on one loop.
struct HTTP1FieldBlock {
    /// The one `content-length`, if any.
    var contentLength: Int?
    /// `connection` lists `close` / `keep-alive` / `upgrade`.
    var saysClose = false
    var saysKeepAlive = false
    var saysUpgrade = false
    /// An `upgrade` field is present.
    var hasUpgrade = false
    /// `host` fields, and where the first is among those kept (its place in the sink).
    var hostCount = 0
    var hostIndex: Int?
    /// A field name holds an underscore (`limits.headers_with_underscores_action`).
    var hasUnderscoreName = false
    /// An `expect` field lists `100-continue`.
    var expectsContinue = false
    /// Read without `droppingHopByHop`: a hop-by-hop field is among those kept.
    var hasHopByHop = false
    /// `x-forwarded-for` and `x-forwarded-proto` fields are present (a proxy appends to the
    /// one and adds the other where it is missing).
    var hasForwardedFor = false
    var hasForwardedProto = false
    /// Read `droppingHopByHop`: a hop-by-hop field was kept, for
    /// `HopByHopHeaders.strip`, which alone knows what to do with it (`te`, whose `trailers`
    /// travels on, or a `connection` naming other fields to drop).
    var keptHopByHop = false
    /// Bytes from the start of the buffer to past the blank line that ends the head.
    var headLength = 0
    /// Fields handed to the sink (those left out as hop-by-hop not counted).
    var keptFieldCount = 0

    /// Reads the field lines from `start` (just past the start line) to the blank line, handing
    /// those it keeps to `sink`. `droppingHopByHop`: hop-by-hop fields (RFC 9110 §7.6.1) are
    /// left out as they are read, with nothing made for them, but for those `keptHopByHop`
    /// tells of.
    static func read<Sink: HTTP1FieldSink>(_ bytes: UnsafeRawBufferPointer, from start: Int, end: Int, maxFields: Int,
                                           droppingHopByHop: Bool, into sink: inout Sink) -> HTTP1FieldBlock? {
        var block = HTTP1FieldBlock()
        var index = start
        // Lines read, the fields left out included: the bound is on the head as sent.
        var lines = 0
        while true {
            guard index < end else { return nil }
            if bytes[index] == UInt8(ascii: "\r") {
                guard let headEnd = lineEnd(bytes, at: index, end: end), !(block.saysClose && block.saysKeepAlive)
                else { return nil }
                block.headLength = headEnd
                return block
            }
            guard lines < maxFields else { return nil }
            lines += 1
            // name ":" OWS value OWS CRLF; a line starting with SP or HTAB (obs-fold) is not a token.
            let nameStart = index
            while index < end, isTokenByte(bytes[index]) {
                if bytes[index] == UInt8(ascii: "_") { block.hasUnderscoreName = true }
                index += 1
            }
            guard index > nameStart, index < end, bytes[index] == UInt8(ascii: ":") else { return nil }
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<index])
            index += 1
            while index < end, isWhitespace(bytes[index]) { index += 1 }
            let valueStart = index
            while index < end, isFieldValueByte(bytes[index]) { index += 1 }
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<index])
            guard let next = lineEnd(bytes, at: index, end: end) else { return nil }
            index = next
            var namesOtherFields = false
            var isHost = false
            if equalsLowercase(name, "host") {
                isHost = true
                block.hostCount += 1
            } else if equalsLowercase(name, "content-length") {
                guard block.contentLength == nil, let length = decimal(value) else { return nil }
                block.contentLength = length
            } else if equalsLowercase(name, "transfer-encoding") || equalsLowercase(name, "proxy-connection") {
                // llhttp reads `proxy-connection` as it reads `connection`: its case.
                return nil
            } else if equalsLowercase(name, "connection") {
                // llhttp matches these tokens its own way around spaces and tabs: a plain list
                // only ("a,b" or "a, b").
                guard isPlainList(value) else { return nil }
                forEachToken(value) { token in
                    if equalsLowercase(token, "close") { block.saysClose = true }
                    else if equalsLowercase(token, "keep-alive") { block.saysKeepAlive = true }
                    else if equalsLowercase(token, "upgrade") { block.saysUpgrade = true }
                    else { namesOtherFields = true }
                }
            } else if equalsLowercase(name, "upgrade") {
                block.hasUpgrade = true
            } else if equalsLowercase(name, "expect") {
                forEachToken(value) { token in
                    if equalsLowercase(token, "100-continue") { block.expectsContinue = true }
                }
            } else if equalsLowercase(name, "x-forwarded-for") {
                block.hasForwardedFor = true
            } else if equalsLowercase(name, "x-forwarded-proto") {
                block.hasForwardedProto = true
            }
            switch HopByHopHeaders.readAction(forFieldNamed: name, connectionNamesOtherFields: namesOtherFields) {
            case .keep: break
            case .drop where droppingHopByHop: continue
            case .keepForStrip where droppingHopByHop: block.keptHopByHop = true
            case .drop, .keepForStrip: block.hasHopByHop = true
            }
            if isHost, block.hostIndex == nil { block.hostIndex = block.keptFieldCount }
            block.keptFieldCount += 1
            sink.keep(name: name, value: value)
        }
    }

    /// Whether the connection stays open after this message: HTTP/1.1 unless `connection:
    /// close`, HTTP/1.0 only with `connection: keep-alive`. (A message saying both is read
    /// differently by llhttp, so `read` leaves it to llhttp.)
    func keepsAlive(http11: Bool) -> Bool {
        !saysClose && (http11 || saysKeepAlive)
    }

    /// The index after the CRLF at `index`; nil for anything else there (a bare LF, a NUL,
    /// a byte a line may not hold, or the end of what is in the buffer).
    static func lineEnd(_ bytes: UnsafeRawBufferPointer, at index: Int, end: Int) -> Int? {
        guard index + 1 < end, bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") else { return nil }
        return index + 2
    }

    /// 1 to 18 digits: no sign, no spaces (llhttp refuses a trailing tab), no list (a list is
    /// a second length: llhttp's case).
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The comma-separated elements of a list value, without their surrounding spaces.
    private static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count, value[end] != UInt8(ascii: ",") { end += 1 }
            var first = start, last = end
            while first < last, isWhitespace(value[first]) { first += 1 }
            while last > first, isWhitespace(value[last - 1]) { last -= 1 }
            body(UnsafeRawBufferPointer(rebasing: value[first..<last]))
            start = end + 1
        }
    }

    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        // Only A–Z fold: `byte | 0x20` alone would also take a control byte for `-` or `2`.
        for (byte, want) in zip(bytes, expected) where byte != want {
            guard byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z"), byte | 0x20 == want else { return false }
        }
        return true
    }

    /// Tokens separated by commas, a single space allowed after each comma.
    private static func isPlainList(_ value: UnsafeRawBufferPointer) -> Bool {
        guard let first = value.first, let last = value.last, isTokenByte(first), isTokenByte(last) else { return false }
        var previous = first
        for byte in value.dropFirst() {
            switch byte {
            case UInt8(ascii: ","): guard isTokenByte(previous) else { return false }
            case UInt8(ascii: " "): guard previous == UInt8(ascii: ",") else { return false }
            default: guard isTokenByte(byte) else { return false }
            }
            previous = byte
        }
        return true
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
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
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }
}
