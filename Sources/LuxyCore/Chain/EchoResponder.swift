import LuxyConfig
import NIOCore
import NIOHTTP1

/// The `echo` route action: the request as the upstream would have seen it, as JSON.
enum EchoResponder {
    static func reply(for exchange: HTTPExchange, body: ByteBuffer?) -> LocalReply {
        let head = exchange.requestHead
        // Repeated fields join with ",", in first-seen order, keyed by lower-case name.
        var headers: [(key: String, value: ConfigValue)] = []
        var seen: Set<String> = []
        for (name, _) in head.headers {
            let lower = name.lowercased()
            guard seen.insert(lower).inserted else { continue }
            headers.append((lower, .string(head.headers[lower].joined(separator: ","))))
        }
        let echo = ConfigValue.map([
            ("method", .string(head.method.rawValue)),
            ("path", .string(head.uri)),
            ("headers", .map(headers)),
            ("body", .string(body.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? "")),
        ])
        return LocalReply.make(.ok, body: echo.jsonString() + "\n", contentType: "application/json")
    }
}
