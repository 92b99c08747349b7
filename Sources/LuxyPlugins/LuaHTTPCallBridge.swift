import LuxyLua
import NIOCore
import NIOHTTP1

/// A Lua `httpCall` turned into the core's side call: pseudo-headers to a request head, the
/// response back to Lua's shape (":status" first, names lower-case).
enum LuaHTTPCallBridge {
    typealias Send = (HTTPRequestHead, ByteBuffer?, TimeAmount, @escaping (HTTPResponseHead, ByteBuffer) -> Void) -> Void

    static func call(headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int, asynchronous: Bool,
                     completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void, send: Send) {
        var method = HTTPMethod.GET
        var path = "/"
        var fields = HTTPHeaders()
        for (name, value) in headers {
            switch name.lowercased() {
            case ":method": method = HTTPMethod(rawValue: value.uppercased())
            case ":path": path = value
            case ":authority": fields.replaceOrAdd(name: "host", value: value)
            case ":scheme": break
            default: fields.add(name: name, value: value)
            }
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: fields)
        // 0 is "no timeout of its own" (Envoy's): the cluster's request timeout still bounds it.
        let timeout = TimeAmount.milliseconds(Int64(max(timeoutMilliseconds, 0)))
        send(head, body.isEmpty ? nil : ByteBuffer(bytes: body), timeout) { responseHead, responseBody in
            guard !asynchronous else { return }
            var headers: [(String, String)] = [(":status", String(responseHead.status.code))]
            for (name, value) in responseHead.headers { headers.append((name.lowercased(), value)) }
            completion(.success(LuaHTTPCallResponse(headers: headers, body: Array(responseBody.readableBytesView))))
        }
    }
}
