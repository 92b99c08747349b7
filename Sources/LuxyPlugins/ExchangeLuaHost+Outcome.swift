import Foundation
import LuxyCore
import LuxyLua
import NIOCore

// `streamInfo()`'s view of how the request ended: status, flags, bytes and times, read from
// the exchange when asked. Once the exchange ended (its log phases) it no longer changes, so
// it is worked out once for all the fields and stages that ask, until a script sets a flag.
extension ExchangeLuaHost {
    var requestOutcome: LuaRequestOutcome {
        if let requestOutcomeCache { return requestOutcomeCache }
        let outcome = makeRequestOutcome()
        if exchange.duration != nil { requestOutcomeCache = outcome }
        return outcome
    }

    private func makeRequestOutcome() -> LuaRequestOutcome {
        let exchange = self.exchange
        // The exchange's start is on its loop's clock (`HTTPExchange.startTime`).
        let now = exchange.eventLoop.now
        let elapsed = exchange.duration ?? (now - exchange.startTime)
        let milliseconds = Double(elapsed.nanoseconds) / 1_000_000
        return LuaRequestOutcome(
            responseCode: Int(exchange.responseHead?.status.code ?? 0),
            responseFlags: exchange.responseFlags.shortCodes,
            bytesReceived: exchange.bytesReceived,
            bytesSent: exchange.bytesSent,
            durationMilliseconds: milliseconds,
            // The start on the wall clock: now, less what the monotonic clock says has passed.
            startTimeMilliseconds: Date().timeIntervalSince1970 * 1000
                - Double((now - exchange.startTime).nanoseconds) / 1_000_000)
    }

    func writeAccessLog(_ line: UnsafeRawBufferPointer, to destination: String) throws(LuaHostError) {
        guard let accessLog else { throw LuaHostError("accessLog() is not available here") }
        do {
            try accessLog.append(line, to: destination)
        } catch {
            throw LuaHostError(error.message)
        }
    }

    func setResponseFlag(_ code: String) -> Bool {
        guard let flag = ResponseFlags(shortCode: code) else { return false }
        exchange.responseFlags.insert(flag)
        requestOutcomeCache = nil
        return true
    }
}
