import NIOCore
import NIOHTTP1

/// The `echo` route action: the request as the upstream would have seen it, as JSON.
enum EchoResponder {
    static func reply(for exchange: HTTPExchange, body: ByteBuffer?) -> (head: HTTPResponseHead, body: ByteBuffer) {
        let head = exchange.requestHead
        var json = "{\"method\":\(quote(head.method.rawValue)),\"path\":\(quote(head.uri)),\"headers\":{"
        var first = true
        var seen: Set<String> = []
        for (name, _) in head.headers {
            let lower = name.lowercased()
            guard seen.insert(lower).inserted else { continue }
            if !first { json += "," }
            first = false
            json += "\(quote(lower)):\(quote(head.headers[lower].joined(separator: ",")))"
        }
        let text = body.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? ""
        json += "},\"body\":\(quote(text))}\n"
        return LocalReply.make(.ok, body: json, contentType: "application/json")
    }

    static func quote(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
