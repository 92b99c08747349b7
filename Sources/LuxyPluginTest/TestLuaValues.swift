import LuxyConfig
import LuxyCore
import LuxyLua
import NIOHTTP1

/// Reading the flat tables the prelude hands over (see `PluginTestPrelude`).
extension ConfigValue {
    var text: String? {
        switch self {
        case .string(let s), .secret(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        default: return nil
        }
    }

    var integer: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int(exactly: d)
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    var isTrue: Bool {
        if case .bool(true) = self { return true }
        return false
    }

    var items: [ConfigValue] {
        if case .array(let items) = self { return items }
        return []
    }

    var entries: [(key: String, value: ConfigValue)] {
        if case .map(let entries) = self { return entries }
        return []
    }

    /// `{{name, value}, …}` → headers.
    var headerFields: HTTPHeaders {
        var headers = HTTPHeaders()
        for pair in items {
            let parts = pair.items
            guard parts.count == 2, let name = parts[0].text, let value = parts[1].text else { continue }
            headers.add(name: name, value: value)
        }
        return headers
    }

    var optionalHeaderFields: HTTPHeaders? {
        if case .array = self { return headerFields }
        return nil
    }
}

extension ScriptedCalls {
    /// `{cluster = answer | {answer, …}}`, answers as the prelude normalised them.
    init(_ value: ConfigValue?) {
        self.init()
        for (cluster, spec) in value?.entries ?? [] {
            let list: [ConfigValue]
            if case .array(let items) = spec { list = items } else { list = [spec] }
            answers[cluster] = list.map(Self.answer)
        }
    }

    private static func answer(_ spec: ConfigValue) -> Answer {
        if spec["timeout"]?.isTrue == true { return .timeout }
        if let reason = spec["failure"]?.text { return .failure(reason) }
        return .response(status: spec["status"]?.integer ?? 200, headers: spec["headers"]?.headerFields ?? HTTPHeaders(),
                         body: Array((spec["body"]?.text ?? "").utf8))
    }
}

extension TestHTTPRequest {
    /// The prelude's flat request; `bodies` are the raw bytes of the bodies (strings in the
    /// flat table may hold any bytes, which a ConfigValue would not keep).
    init(_ flat: ConfigValue, requestBody: [UInt8]?, responseBody: [UInt8]?) {
        self.init()
        method = flat["method"]?.text ?? method
        path = flat["path"]?.text ?? path
        authority = flat["authority"]?.text ?? authority
        scheme = flat["scheme"]?.text ?? scheme
        protocolName = flat["protocol"]?.text ?? protocolName
        message = TestHTTPMessage(flat, body: requestBody)
        source = flat["source"]?.text ?? source
        destination = flat["destination"]?.text ?? destination
        direction = flat["direction"]?.text ?? direction
        routeName = flat["route"]?.text
        service = flat["service"]?.text
        cluster = flat["cluster"]?.text
        upstream = flat["upstream"]?.text
        routeMetadata = flat["metadata"] ?? .map([])
        filterContext = flat["filter_context"]
        ssl = flat["tls"].map(LuaSSLInfo.init(testValue:))
        calls = ScriptedCalls(flat["calls"])
        guard let response = flat["response"] else { return }
        if response["timeout"]?.isTrue == true {
            upstreamAnswer = .failure(.timeout)
        } else if let reason = response["failure"]?.text {
            upstreamAnswer = .failure(.connectFailed(reason))
        } else {
            upstreamAnswer = .response(TestHTTPResponse(status: response["status"]?.integer ?? 200,
                                                        message: TestHTTPMessage(response, body: responseBody)))
        }
    }
}

extension TestHTTPMessage {
    /// The `headers`, `body_chunks` and `trailers` of a flat request or response, with its
    /// body's raw bytes.
    init(_ flat: ConfigValue, body: [UInt8]?) {
        self.init(headers: flat["headers"]?.headerFields ?? HTTPHeaders(), body: body,
                  bodyChunks: flat["body_chunks"].map { $0.items.map { Array(($0.text ?? "").utf8) } },
                  trailers: flat["trailers"]?.optionalHeaderFields)
    }
}

extension LuaSSLInfo {
    /// `tls = {peer = {subject, uri_sans, dns_sans, digest, validated}, version, sni, alpn}`.
    init(testValue tls: ConfigValue) {
        let peer = tls["peer"]
        self.init(peerCertificatePresented: peer != nil,
                  peerCertificateValidated: peer.map { $0["validated"].map(\.isTrue) ?? true } ?? false,
                  uriSANs: peer?["uri_sans"]?.items.compactMap(\.text) ?? [],
                  dnsSANs: peer?["dns_sans"]?.items.compactMap(\.text) ?? [],
                  subject: peer?["subject"]?.text ?? "", sha256Digest: peer?["digest"]?.text ?? "",
                  tlsVersion: tls["version"]?.text ?? "TLSv1.3", serverName: tls["sni"]?.text ?? "",
                  alpn: tls["alpn"]?.text ?? "")
    }
}

extension TestTCPConnection {
    init(_ flat: ConfigValue) {
        self.init()
        source = flat["source"]?.text ?? source
        destination = flat["destination"]?.text ?? destination
        upstream = flat["upstream"]?.text ?? upstream
        identity = flat["identity"]?.text
        direction = flat["direction"]?.text ?? direction
        cluster = flat["cluster"]?.text ?? cluster
        calls = ScriptedCalls(flat["calls"])
    }
}
