import LuxyCore
import LuxyLua
import NIOHTTP1

/// The answers a test scripted for `httpCall`, per cluster, and the calls made. An answer
/// list is used in order, its last answer repeating. Confined to the harness's loop.
struct ScriptedCalls {
    enum Answer {
        case response(status: Int, headers: HTTPHeaders, body: [UInt8])
        /// What production answers when the call's timeout runs out (504).
        case timeout
        /// A transport failure (503), with its reason.
        case failure(String)
    }

    var answers: [String: [Answer]] = [:]
    private var served: [String: Int] = [:]

    /// Whether the script may call `cluster`: one with an answer, or one the config knows.
    func knows(_ cluster: String, configured: Set<String>) -> Bool {
        answers[cluster] != nil || configured.contains(cluster)
    }

    /// The next answer for `cluster`, as `httpCall` hands it to Lua.
    mutating func answer(_ cluster: String) -> LuaHTTPCallResponse {
        guard let list = answers[cluster], !list.isEmpty else {
            return Self.reply(.serviceUnavailable, "luxy test: no answer scripted for cluster '\(cluster)'")
        }
        let index = min(served[cluster, default: 0], list.count - 1)
        served[cluster, default: 0] += 1
        switch list[index] {
        case .response(let status, let headers, let body):
            var fields: [(String, String)] = [(":status", String(status))]
            for (name, value) in headers { fields.append((name.lowercased(), value)) }
            return LuaHTTPCallResponse(headers: fields, body: body)
        case .timeout:
            return Self.reply(UpstreamError.timeout.status, UpstreamError.timeout.description)
        case .failure(let reason):
            let error = UpstreamError.connectFailed(reason)
            return Self.reply(error.status, error.description)
        }
    }

    /// A transport failure as the core answers it: a plain-text one-line body, no newline.
    private static func reply(_ status: HTTPResponseStatus, _ text: String) -> LuaHTTPCallResponse {
        LuaHTTPCallResponse(headers: [(":status", String(status.code)), ("content-type", "text/plain"),
                                      ("content-length", String(text.utf8.count))],
                            body: Array(text.utf8))
    }
}

/// One `httpCall` a plugin made, for the test to look at. A value, made on the harness's loop.
struct RecordedCall {
    var cluster: String
    var headers: [LuaHeaderField]
    var body: [UInt8]
    var timeoutMilliseconds: Int
    var asynchronous: Bool
}

/// A header as Lua gives it (pseudo-headers included), kept in order. A value.
struct LuaHeaderField {
    var name: String
    var value: String
}

/// One line a plugin logged. A value, made on the harness's loop.
struct RecordedLog {
    var level: LuaLogLevel
    var message: String
    /// The chunk name of the plugin, e.g. `plugins/x.lua`.
    var plugin: String
}
