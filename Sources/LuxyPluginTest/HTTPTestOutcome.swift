import LuxyConfig
import LuxyCore
import NIOCore

/// A stage that failed, and Lua's message (with its file:line). A value.
struct StageError {
    var stage: String
    var message: String
}

/// One line a log phase wrote with `accessLog(destination, line)`. A value, made on the harness's loop.
struct RecordedAccessLine {
    var destination: String
    var line: String
    /// The chunk name of the plugin that wrote it.
    var plugin: String
}

/// The request as it would go upstream. A value.
struct TestUpstreamRequest {
    var method: String
    var path: String
    var authority: String
    var scheme: String
    var message: TestHTTPMessage
}

/// All a test sees of one request. A value, made on the harness's loop.
struct HTTPTestOutcome {
    /// nil when a stage answered itself or failed; kept for a scripted upstream failure.
    var upstream: TestUpstreamRequest?
    /// What `respond()` answered, before the response phases.
    var reply: TestHTTPResponse?
    /// What the client gets, after the response phases.
    var response = TestHTTPResponse(status: 0)
    /// The response flags the log phase saw (`-` for none, `LR`, `PF`, `UF`, `UT,…`).
    var responseFlags = "-"
    var errors: [StageError] = []
    var logs: [RecordedLog] = []
    /// What the log phases wrote with `accessLog()`, in order.
    var accessLog: [RecordedAccessLine] = []
    var calls: [RecordedCall] = []
    var metadata: ConfigValue = .map([])
    var routeCleared = false
}

extension TestHTTPResponse {
    init(_ reply: LocalReply) {
        self.init(status: Int(reply.head.status.code),
                  message: TestHTTPMessage(headers: reply.head.headers,
                                           body: reply.body.readableBytes > 0 ? Array(reply.body.readableBytesView) : nil))
    }
}
