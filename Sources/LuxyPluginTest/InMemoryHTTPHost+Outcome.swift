import LuxyCore
import LuxyLua
import NIOCore

// What the log phase reads of how the test request ended, and what it writes: the status,
// the flags the run set (as the proxy's driver sets them), the body bytes each way and the
// time since the request came; `accessLog()` lines are kept for the test to read.
extension InMemoryHTTPHost {
    var requestOutcome: LuaRequestOutcome {
        LuaRequestOutcome(
            responseCode: Int(exchange.responseStatus?.code ?? 0),
            responseFlags: exchange.responseFlags.shortCodes,
            // What the client sent, whatever a stage made of it.
            bytesReceived: request.message.body?.count ?? 0,
            bytesSent: exchange.response.body?.count ?? 0,
            durationMilliseconds: Double((NIODeadline.now() - started).nanoseconds) / 1_000_000,
            startTimeMilliseconds: startedMilliseconds)
    }

    /// Production's flags by their short codes: an unknown code is refused (the script raises).
    func setResponseFlag(_ code: String) -> Bool {
        guard let flag = ResponseFlags(shortCode: code) else { return false }
        exchange.responseFlags.insert(flag)
        return true
    }

    /// Kept, not written: the test reads the lines (`result.access_log`) and nothing leaves the process.
    func writeAccessLog(_ line: UnsafeRawBufferPointer, to destination: String) throws(LuaHostError) {
        accessLines.append(RecordedAccessLine(destination: destination, line: String(decoding: line, as: UTF8.self),
                                              plugin: currentStage?.chunkName ?? ""))
    }
}
