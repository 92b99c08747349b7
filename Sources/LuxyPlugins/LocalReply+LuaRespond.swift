import LuxyCore
import NIOCore
import NIOHTTP1

extension LocalReply {
    /// What a script's `respond(headers, body)` answers: `:status` from the headers (200
    /// when absent), the other headers as given, and a content-length where the status
    /// allows a body. Shared by the proxy's host and the plugin test harness's.
    public init(luaRespondHeaders headers: [(String, String)], body: [UInt8]) {
        var status = HTTPResponseStatus.ok
        var fields = HTTPHeaders()
        for (name, value) in headers {
            if name == ":status" {
                status = HTTPResponseStatus(statusCode: Int(value) ?? 200)
            } else {
                fields.add(name: name, value: value)
            }
        }
        // RFC 9110: no content-length on 1xx and 204; on 304 it would misstate the resource.
        if status.code >= 200, status != .noContent, status != .notModified {
            fields.replaceOrAdd(name: "content-length", value: String(body.count))
        }
        self.init(head: HTTPResponseHead(version: .http1_1, status: status, headers: fields), body: ByteBuffer(bytes: body))
    }
}
