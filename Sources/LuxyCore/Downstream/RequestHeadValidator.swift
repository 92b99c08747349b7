import LuxyConfig
import NIOHTTP1

/// The edge checks a request head passes before any stage, router or upstream sees it. They
/// refuse what nginx and Envoy refuse at the edge: a head a backend might read differently
/// from us (two `Host` fields, a transfer coding we would re-frame, `Transfer_Encoding`
/// aliasing `Transfer-Encoding` in a CGI-style backend) must never be forwarded.
///
/// NIO's parser has already refused what HTTP/1.1's grammar forbids (bad tokens, CR/LF/NUL,
/// conflicting lengths, heads over the byte and count limits); an h2 stream's head comes
/// through NIO's HTTP/2 validation instead. What is left is checked here, in one pass over
/// the fields. A value type made once per generation; used on the connection's loop.
struct RequestHeadValidator {
    /// Why a head is refused: the status the client gets, the reason in its body, and the
    /// counter it adds to.
    struct Rejection: Error, Equatable {
        var status: HTTPResponseStatus
        var reason: String
        var counter: String
    }

    let maxHeaderCount: Int
    let maxRequestLineBytes: Int
    let underscores: UnderscoreHeaderAction

    init(limits: LimitsConfiguration) {
        maxHeaderCount = limits.maxHeaderCount
        maxRequestLineBytes = limits.maxRequestLineBytes
        underscores = limits.headersWithUnderscores
    }

    /// Checks `head`, and normalises what the edge owns: an absolute-form target becomes
    /// origin-form with its authority as `Host` (RFC 9112 §3.2.2), and header fields with an
    /// underscore in their name are dropped when that is the configured action.
    /// `surveyed`: the fields' survey when the fast path took it as it read them; else the
    /// fields are surveyed here.
    func validate(_ head: inout HTTPRequestHead, isHTTP2: Bool, surveyed: FieldSurvey? = nil) -> Rejection? {
        if head.method == .CONNECT {
            // No route can tunnel CONNECT: refused with the status for a known but unsupported
            // method, rather than left to hang or to reach an upstream as a plain request.
            return Rejection(status: .methodNotAllowed, reason: "CONNECT is not supported",
                             counter: "downstream_connect_refused")
        }
        if head.method.rawValue.utf8.count + head.uri.utf8.count + 10 > maxRequestLineBytes {
            return Rejection(status: .uriTooLong, reason: "request line longer than \(maxRequestLineBytes) bytes",
                             counter: "downstream_uri_too_long")
        }
        if let rejection = checkTarget(&head) { return rejection }
        return checkFields(&head, isHTTP2: isHTTP2, surveyed: surveyed)
    }

    // MARK: The request target

    private func checkTarget(_ head: inout HTTPRequestHead) -> Rejection? {
        let uri = head.uri.utf8
        guard let first = uri.first else { return invalidTarget("an empty request target") }
        switch first {
        case UInt8(ascii: "/"):
            return RequestTargetSyntax.isValidOriginForm(head.uri) ? nil : invalidTarget("an invalid request target")
        case UInt8(ascii: "*"):
            // The asterisk form names the server as a whole, and only for OPTIONS.
            guard uri.count == 1, head.method == .OPTIONS else { return invalidTarget("'*' as the target of \(head.method)") }
            return nil
        default:
            guard let absolute = RequestTargetSyntax.AbsoluteForm(head.uri) else {
                return invalidTarget("an invalid request target")
            }
            guard RequestTargetSyntax.isValidAuthority(absolute.authority),
                  RequestTargetSyntax.isValidOriginForm(absolute.pathAndQuery) else {
                return invalidTarget("an invalid absolute request target")
            }
            // The target's authority wins over any `Host` (RFC 9112 §3.2.2), so the router,
            // the stages and the upstream all see one host.
            head.uri = absolute.pathAndQuery
            head.headers.replaceOrAdd(name: "host", value: String(absolute.authority))
            return nil
        }
    }

    private func invalidTarget(_ what: String) -> Rejection {
        Rejection(status: .badRequest, reason: "\(what)", counter: "downstream_invalid_target")
    }

    // MARK: Header fields

    /// What one pass over the fields finds.
    /// What the checks of the fields go by: gathered here in one pass over them, or by the
    /// fast path as it read them (`RequestHeadFacts`).
    struct FieldSurvey {
        var count = 0
        var hostCount = 0
        var hostsDiffer = false
        var firstHost: String?
        var transferCodings = 0
        var transferCodingIsChunked = false
        var underscoreNames: [String] = []
    }

    private func checkFields(_ head: inout HTTPRequestHead, isHTTP2: Bool, surveyed: FieldSurvey?) -> Rejection? {
        let survey = surveyed ?? self.survey(head.headers)
        if survey.count > maxHeaderCount {
            return Rejection(status: .requestHeaderFieldsTooLarge, reason: "more than \(maxHeaderCount) header fields",
                             counter: "downstream_too_many_headers")
        }
        if let rejection = checkHost(survey, head: &head, isHTTP2: isHTTP2) { return rejection }
        if survey.transferCodings > 0, survey.transferCodings != 1 || !survey.transferCodingIsChunked {
            // Only `chunked` frames a request body we can read; any other coding would be
            // forwarded re-framed and so changed (nginx and Envoy answer 501 too).
            return Rejection(status: .notImplemented, reason: "transfer coding other than chunked",
                             counter: "downstream_unsupported_transfer_encoding")
        }
        if !survey.underscoreNames.isEmpty {
            if underscores == .reject {
                return Rejection(status: .badRequest, reason: "header name with an underscore",
                                 counter: "downstream_underscore_headers_rejected")
            }
            for name in survey.underscoreNames { head.headers.remove(name: name) }
        }
        return nil
    }

    private func survey(_ headers: HTTPHeaders) -> FieldSurvey {
        var survey = FieldSurvey()
        for (name, value) in headers {
            survey.count += 1
            switch name.utf8.count {
            case 4 where name.equalsIgnoringASCIICase("host"):
                survey.hostCount += 1
                if let firstHost = survey.firstHost {
                    if firstHost != value { survey.hostsDiffer = true }
                } else {
                    survey.firstHost = value
                }
            case 17 where name.equalsIgnoringASCIICase("transfer-encoding"):
                _ = value.forEachListElement { coding in
                    survey.transferCodings += 1
                    survey.transferCodingIsChunked = coding.equalsIgnoringASCIICase("chunked")
                    return false
                }
            default:
                if underscores != .allow, name.withUTF8Bytes({ $0.contains(UInt8(ascii: "_")) }) {
                    survey.underscoreNames.append(name)
                }
            }
        }
        return survey
    }

    private func checkHost(_ survey: FieldSurvey, head: inout HTTPRequestHead, isHTTP2: Bool) -> Rejection? {
        // HTTP/1.0 predates `Host`; HTTP/1.1 must send exactly one (RFC 9112 §3.2); h2 carries
        // `:authority`, which NIO's codec turns into `host`.
        let required = isHTTP2 || head.version.major > 1 || head.version.minor >= 1
        guard let host = survey.firstHost else {
            return required ? invalidHost("no Host header") : nil
        }
        if survey.hostCount > 1 {
            // An h2 client may send `:authority` and an equal `host`: that is one host.
            guard isHTTP2, !survey.hostsDiffer else { return invalidHost("more than one Host header") }
            head.headers.replaceOrAdd(name: "host", value: host)
        }
        return RequestTargetSyntax.isValidAuthority(host) ? nil : invalidHost("an invalid Host header")
    }

    private func invalidHost(_ what: String) -> Rejection {
        Rejection(status: .badRequest, reason: what, counter: "downstream_invalid_host")
    }
}
