import NIOHTTP1

/// What a request head says about its body and its connection, read in one pass over its
/// fields when it is parsed, so nothing later scans the head again for it.
struct RequestFraming {
    /// `Transfer-Encoding` is present: the body is chunked (the decoder refused anything else).
    private(set) var hasTransferEncoding = false
    /// The last transfer coding is `chunked`.
    private(set) var chunked = false
    private(set) var contentLength: Int?
    /// `Expect: 100-continue` on HTTP/1.1: h2 has no interim answer to send, and an HTTP/1.0
    /// server MUST ignore the expectation (RFC 9110 §10.1.1).
    private(set) var expectsContinue = false
    /// An `Upgrade` field and `upgrade` among the `Connection` options (RFC 9110 §7.8).
    private(set) var isUpgrade = false
    /// An upgrade that offers `websocket`.
    private(set) var isWebSocket = false

    var hasBody: Bool { hasTransferEncoding || (contentLength ?? 0) > 0 }

    /// A head `RequestHeadParser` read: no `transfer-encoding` and no upgrade (it leaves those
    /// to llhttp), its length and its expectation taken as its fields were read.
    init(contentLength: Int?, expectsContinue: Bool) {
        self.contentLength = contentLength
        self.expectsContinue = expectsContinue
    }

    init(_ headers: HTTPHeaders, version: HTTPVersion, isHTTP2: Bool) {
        let mayContinue = !isHTTP2 && (version.major > 1 || version.minor >= 1)
        var upgradeField = false
        var connectionUpgrade = false
        var offersWebSocket = false
        for (name, value) in headers {
            switch name.utf8.count {
            case 6 where name.equalsIgnoringASCIICase("expect"):
                if mayContinue, value.containsListToken("100-continue") { expectsContinue = true }
            case 7 where name.equalsIgnoringASCIICase("upgrade"):
                upgradeField = true
                if value.containsListToken("websocket") { offersWebSocket = true }
            case 10 where name.equalsIgnoringASCIICase("connection"):
                if value.containsListToken("upgrade") { connectionUpgrade = true }
            case 14 where name.equalsIgnoringASCIICase("content-length"):
                contentLength = Int(value)
            case 17 where name.equalsIgnoringASCIICase("transfer-encoding"):
                hasTransferEncoding = true
                _ = value.forEachListElement { coding in
                    chunked = coding.equalsIgnoringASCIICase("chunked")
                    return false
                }
            default:
                continue
            }
        }
        isUpgrade = !isHTTP2 && upgradeField && connectionUpgrade
        isWebSocket = isUpgrade && offersWebSocket
    }
}
