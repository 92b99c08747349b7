import LuxyConfig

/// An access-log format compiled once, at a script's load (`luxy.log_format`), and rendered
/// for each request in one host call: Envoy's `%OPERATOR%` substitution format, as text or
/// as one JSON object per line. The per-request work is a walk over the compiled line
/// (`LogLinePlan`) that appends bytes to one reused buffer: no Lua call, string or table per
/// field.
///
/// Loop-confined: held by one VM (`LuxyVMState.logFormats`) and rendered on its loop, which
/// is what lets the buffer be reused.
final class LuaLogFormat {
    /// A value one operator reads from the request.
    enum Operator {
        case startTime, protocolName, responseCode, responseFlags, bytesReceived, bytesSent, duration
        case routeName, upstreamHost, upstreamCluster, attemptCount
        case downstreamRemoteAddress, downstreamLocalAddress, downstreamDirectRemoteAddress
        case requestedServerName, direction, service
        /// `%REQ(name?alternative):length%` and `%RESP(…)%`: a header, its alternative when it
        /// is absent, cut to `maxLength` bytes.
        case requestHeader(HeaderField)
        case responseHeader(HeaderField)

        static let simple: [String: Operator] = [
            "START_TIME": .startTime, "PROTOCOL": .protocolName, "RESPONSE_CODE": .responseCode,
            "RESPONSE_FLAGS": .responseFlags, "BYTES_RECEIVED": .bytesReceived, "BYTES_SENT": .bytesSent,
            "DURATION": .duration, "ROUTE_NAME": .routeName, "UPSTREAM_HOST": .upstreamHost,
            "UPSTREAM_CLUSTER": .upstreamCluster, "UPSTREAM_REQUEST_ATTEMPT_COUNT": .attemptCount,
            "DOWNSTREAM_REMOTE_ADDRESS": .downstreamRemoteAddress,
            "DOWNSTREAM_LOCAL_ADDRESS": .downstreamLocalAddress,
            "DOWNSTREAM_DIRECT_REMOTE_ADDRESS": .downstreamDirectRemoteAddress,
            "REQUESTED_SERVER_NAME": .requestedServerName, "DIRECTION": .direction, "SERVICE": .service,
        ]
    }

    /// A class, not a struct: an operator is then one reference, which a walk over the line
    /// copies with a retain, where a struct's strings made every copy of an operator go
    /// through its enum's generic value witness.
    final class HeaderField: Sendable {
        /// Lowercased, as header maps look names up.
        let name: String
        let alternative: String?
        let maxLength: Int?

        init(name: String, alternative: String?, maxLength: Int?) {
            self.name = name
            self.alternative = alternative
            self.maxLength = maxLength
        }
    }

    enum Part {
        case literal([UInt8])
        case value(Operator)
    }

    /// One key of a JSON line: `"key":` (with the comma before it, but for the first) made once.
    struct Field {
        let prefix: [UInt8]
        /// Its literal text already escaped for a JSON string, once here rather than per line.
        let parts: [Part]
        /// The operator of a field that is one: it keeps its type (a number stays a number,
        /// absent is null); nil for a field with text in it, which is a string.
        let single: Operator?

        /// `"key":`, after a comma unless it is the first field; the key quoted as the config
        /// dump quotes strings (`ConfigValue.jsonString`).
        init(key: String, parts: [Part], first: Bool) {
            prefix = Array(((first ? "" : ",") + ConfigValue.string(key).jsonString() + ":").utf8)
            self.parts = parts.map { part in
                guard case .literal(let text) = part else { return part }
                var escaped = LineBuilder()
                escaped.appendEscaped(text)
                return .literal(escaped.bytes.array)
            }
            single = parts.count == 1 ? parts[0].operator : nil
        }
    }

    enum Layout {
        /// Envoy's text format: parts in order, an absent value printed `-`.
        case text([Part])
        /// A JSON object: its fields in order.
        case json([Field])
    }

    /// The layout as rendering walks it.
    private let plan: LogLinePlan
    /// Whether an operator reads how the request ended, which the host works out per call.
    private let readsOutcome: Bool
    private var builder = LineBuilder()

    init(layout: Layout) {
        plan = LogLinePlan(layout)
        readsOutcome = plan.operators.contains { $0.readsOutcome }
    }

    /// Compiles an Envoy format string into its parts; throws the operator it does not know.
    static func parts(of format: String) throws(LogFormatError) -> [Part] {
        var parts: [Part] = []
        let bytes = Array(format.utf8)
        var literal: [UInt8] = []
        var i = 0
        while i < bytes.count {
            // `%NAME…%` where NAME starts with an upper-case letter or `_`; any other `%` is text.
            if bytes[i] == UInt8(ascii: "%"), i + 1 < bytes.count, bytes[i + 1].isOperatorStart,
               let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "%")) {
                if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
                parts.append(.value(try Self.operator(String(decoding: bytes[(i + 1)..<close], as: UTF8.self))))
                i = close + 1
                continue
            }
            literal.append(bytes[i])
            i += 1
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return parts
    }

    private static func `operator`(_ body: String) throws(LogFormatError) -> Operator {
        if let simple = Operator.simple[body] { return simple }
        // REQ(name?alternative):length and RESP(…)
        guard let open = body.firstIndex(of: "("), let close = body.lastIndex(of: ")"), open < close else {
            throw LogFormatError(operator: body)
        }
        let kind = body[..<open]
        let spec = body[body.index(after: open)..<close]
        let rest = body[body.index(after: close)...]
        var maxLength: Int?
        if !rest.isEmpty {
            guard rest.first == ":" else { throw LogFormatError(operator: body) }
            let digits = rest.dropFirst()
            if !digits.isEmpty {
                guard let length = Int(digits), length >= 0 else { throw LogFormatError(operator: body) }
                maxLength = length
            }
        }
        let names = spec.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = names.first, !first.isEmpty else { throw LogFormatError(operator: body) }
        let field = HeaderField(name: first.lowercased(), alternative: names.count > 1 ? names[1].lowercased() : nil,
                                maxLength: maxLength)
        switch kind {
        case "REQ": return .requestHeader(field)
        case "RESP": return .responseHeader(field)
        default: throw LogFormatError(operator: body)
        }
    }

    /// The line for the request `host` serves, in its log phase, handed to `body`: valid only
    /// there (the buffer is the next line's), so a caller copies it once, where it goes.
    func render<Result, Failure: Error>(_ host: LuaHTTPHost, _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result)
        throws(Failure) -> Result {
        var reader = RequestReader(host: host, outcome: readsOutcome ? host.requestOutcome : nil)
        // Built in a local copy, put back at the end (its start-time text carries over): each
        // append through the stored builder loaded its byte buffer, a retain and a release.
        var builder = self.builder
        defer { self.builder = builder }
        builder.bytes.removeAll()
        plan.literals.withUnsafeBufferPointer { literals in
            for step in plan.steps {
                switch step {
                case .literal(let start, let end):
                    builder.bytes.append(UnsafeBufferPointer(rebasing: literals[start..<end]))
                case .text(let op): builder.appendText(reader.value(plan.operators[op]))
                case .json(let op): builder.appendJSON(reader.value(plan.operators[op]))
                case .escaped(let op): builder.appendEscaped(reader.value(plan.operators[op]), absent: "-")
                }
            }
        }
        return try builder.bytes.withBytes(body)
    }
}

/// The line being rendered, and the start-time text it reuses from one line to the next.
private struct LineBuilder {
    let bytes = LogLineBytes()
    var clock = StartTimeText()

    /// A value of a text line: absent prints `-`.
    mutating func appendText(_ value: LogValue) {
        switch value {
        case .absent: bytes.append(UInt8(ascii: "-"))
        case .number(let n): bytes.appendDecimal(n)
        case .text(let s): bytes.append(s)
        case .time(let ms): clock.append(milliseconds: ms, to: bytes)
        }
    }

    mutating func appendJSON(_ value: LogValue) {
        switch value {
        case .absent: bytes.append("null")
        case .number(let n): bytes.appendDecimal(n)
        case .text(let s):
            bytes.append(UInt8(ascii: "\""))
            appendEscaped(s.utf8)
            bytes.append(UInt8(ascii: "\""))
        case .time(let ms):
            bytes.append(UInt8(ascii: "\""))
            clock.append(milliseconds: ms, to: bytes)
            bytes.append(UInt8(ascii: "\""))
        }
    }

    /// A value inside a JSON string: numbers as digits, absent as `absent`.
    mutating func appendEscaped(_ value: LogValue, absent: String) {
        switch value {
        case .absent: bytes.append(absent)
        case .number(let n): bytes.appendDecimal(n)
        case .text(let s): appendEscaped(s.utf8)
        case .time(let ms): clock.append(milliseconds: ms, to: bytes)
        }
    }

    /// JSON string escaping by RFC 8259, as `ConfigValue.jsonString` escapes (quote, backslash,
    /// the short forms of control characters, `\u00XX` for the others), on bytes: the line is
    /// bytes, and a value's UTF-8 stays as it is. The runs between bytes to escape (usually
    /// the whole value) are appended in one copy each.
    mutating func appendEscaped<Bytes: Sequence<UInt8>>(_ value: Bytes) {
        let appended: Void? = value.withContiguousStorageIfAvailable { appendEscaped(contiguous: $0) }
        guard appended == nil else { return }
        for byte in value {
            if Self.needsEscape(byte) { appendEscape(of: byte) } else { bytes.append(byte) }
        }
    }

    private mutating func appendEscaped(contiguous value: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        for index in value.indices where Self.needsEscape(value[index]) {
            bytes.append(UnsafeBufferPointer(rebasing: value[runStart..<index]))
            appendEscape(of: value[index])
            runStart = index + 1
        }
        bytes.append(UnsafeBufferPointer(rebasing: value[runStart...]))
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7f
    }

    private mutating func appendEscape(of byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(byte)
        case UInt8(ascii: "\n"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "t"))
        case 0x08:
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "b"))
        case 0x0c:
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "f"))
        default:
            bytes.append("\\u00")
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0xf)])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

/// What an operator found: a number keeps its type in JSON, absent is `null` (text: `-`).
enum LogValue {
    case absent
    case number(Int)
    case text(String)
    /// `%START_TIME%`: milliseconds since the epoch, printed as a date.
    case time(milliseconds: Int)
}

/// An operator the format names but `luxy.log_format` does not know.
struct LogFormatError: Error {
    var `operator`: String
    var message: String { "unknown operator %\(`operator`)% in the format" }
}

/// Reads the operators' values for one render, each fetched from the host once.
private struct RequestReader {
    let host: LuaHTTPHost
    let outcome: LuaRequestOutcome?
    private var info: LuaStreamInfo?
    private var requestHeaders: LuaHeaderMap?
    private var responseHeaders: LuaHeaderMap?

    init(host: LuaHTTPHost, outcome: LuaRequestOutcome?) {
        self.host = host
        self.outcome = outcome
    }

    /// The stream info, fetched once per render. Its fields are then read where the reader
    /// keeps it (`info!.field`): returning the whole struct would copy (retain and release)
    /// every one of its strings per field.
    private mutating func loadStreamInfo() {
        if info == nil { info = host.streamInfo }
    }

    mutating func value(_ op: LuaLogFormat.Operator) -> LogValue {
        switch op {
        case .startTime: return .time(milliseconds: Int((outcome?.startTimeMilliseconds ?? 0).rounded(.down)))
        // The host's own fields where it has them: the whole stream info only for the rest.
        case .protocolName: return .text(host.protocolName)
        case .responseCode: return .number(outcome?.responseCode ?? 0)
        case .responseFlags: return .text(outcome?.responseFlags ?? "-")
        case .bytesReceived: return .number(outcome?.bytesReceived ?? 0)
        case .bytesSent: return .number(outcome?.bytesSent ?? 0)
        case .duration: return .number(Int((outcome?.durationMilliseconds ?? 0).rounded(.down)))
        case .routeName: return Self.optional(host.routeName)
        case .upstreamHost: return Self.optional(host.upstreamTarget)
        case .upstreamCluster: return Self.optional(host.clusterName)
        case .attemptCount: return .number(host.attemptCount)
        case .downstreamRemoteAddress: return .text(host.downstreamRemoteAddress)
        case .downstreamLocalAddress: loadStreamInfo(); return .text(info!.downstreamLocalAddress)
        case .downstreamDirectRemoteAddress: loadStreamInfo(); return .text(info!.downstreamDirectRemoteAddress)
        case .requestedServerName: loadStreamInfo(); return .text(info!.requestedServerName)
        case .direction: return .text(host.direction)
        case .service: return Self.optional(host.destinationService)
        case .requestHeader(let field):
            if requestHeaders == nil { requestHeaders = host.headers(.request) }
            // Read where the reader keeps the map: unwrapping it would copy the existential.
            return requestHeaders?.logValue(of: field) ?? .absent
        case .responseHeader(let field):
            // The log phase's own map is the response (`headers()` in `on_log`).
            if responseHeaders == nil { responseHeaders = host.headers(.log) }
            return responseHeaders?.logValue(of: field) ?? .absent
        }
    }

    private static func optional(_ text: String?) -> LogValue {
        text.map(LogValue.text) ?? .absent
    }
}

extension LuaHeaderMap {
    /// `field`'s value for a log line: its alternative when it is absent, cut to its length.
    fileprivate func logValue(of field: LuaLogFormat.HeaderField) -> LogValue {
        var found = get(field.name)
        if found == nil, let alternative = field.alternative { found = get(alternative) }
        guard let value = found else { return .absent }
        guard let max = field.maxLength, value.utf8.count > max else { return .text(value) }
        // Cut at `max` bytes, back to the start of the character there: a character cut in two
        // would come out as a replacement character, longer than the limit.
        let utf8 = Array(value.utf8)
        var end = max
        while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }
        return .text(String(decoding: utf8[..<end], as: UTF8.self))
    }
}

/// `%START_TIME%` as Envoy prints it (UTC, milliseconds), the date part made once a second.
struct StartTimeText {
    private var second = Int.min
    private var prefix: [UInt8] = []

    mutating func append(milliseconds ms: Int, to line: LogLineBytes) {
        let (s, fraction) = ms.quotientAndRemainder(dividingBy: 1000)
        if s != second {
            second = s
            prefix = Array(Self.civil(second: s).utf8)
        }
        line.append(prefix)
        line.append(UInt8(ascii: "."))
        line.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        line.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        line.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        line.append(UInt8(ascii: "Z"))
    }

    /// `YYYY-MM-DDTHH:MM:SS` from seconds since the epoch (Howard Hinnant's civil-from-days).
    private static func civil(second: Int) -> String {
        let days = second / 86400
        let rest = second - days * 86400
        let z = days + 719_468
        let era = z / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = String(y)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(m) + "-" + two(d)
            + "T" + two(rest / 3600) + ":" + two(rest % 3600 / 60) + ":" + two(rest % 60)
    }
}

extension LuaLogFormat.Operator {
    /// Whether the value comes from how the request ended (`LuaRequestOutcome`).
    var readsOutcome: Bool {
        switch self {
        case .startTime, .responseCode, .responseFlags, .bytesReceived, .bytesSent, .duration: true
        default: false
        }
    }
}

extension LuaLogFormat.Part {
    var `operator`: LuaLogFormat.Operator? {
        if case .value(let op) = self { return op }
        return nil
    }
}

private extension UInt8 {
    /// The first character of an operator's name (`%START_TIME%`, `%REQ(…)%`).
    var isOperatorStart: Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self) || self == UInt8(ascii: "_") }
}
