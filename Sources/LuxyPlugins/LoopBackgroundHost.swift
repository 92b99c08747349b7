import Logging
import LuxyCore
import LuxyLua
import NIOCore

/// `LuaBackgroundHost` for one loop's VM while its generation is the current one there: timers
/// scheduled on the loop, side calls through the generation's clusters, log lines under the
/// script's name.
///
/// Only touched on its loop (`wake` may be called from any thread; it hops onto the loop).
final class LoopBackgroundHost: LuaBackgroundHost {
    private let eventLoop: EventLoop
    private let sideCalls: GenerationSideCalls
    private let logger: Logger

    init(eventLoop: EventLoop, sideCalls: GenerationSideCalls, logger: Logger) {
        self.eventLoop = eventLoop
        self.sideCalls = sideCalls
        self.logger = logger
    }

    func schedule(after seconds: Double, _ work: @escaping () -> Void) -> LuaScheduledWork {
        let delay = TimeAmount.nanoseconds(Int64(min(seconds * 1e9, 1e18)))
        return ScheduledLoopWork(eventLoop.assumeIsolated().scheduleTask(in: delay) { work() })
    }

    func continueLater(_ work: @escaping () -> Void) {
        eventLoop.continueLuaPhase(work)
    }

    func makeWaker(_ work: @escaping () -> Void) -> @Sendable () -> Void {
        let eventLoop = self.eventLoop
        let bound = NIOLoopBound(work, eventLoop: eventLoop)
        return { eventLoop.execute { bound.value() } }
    }

    func log(_ level: LuaLogLevel, _ message: String, chunkName: String) {
        var logger = logger
        logger[metadataKey: "plugin"] = "\(chunkName)"
        logger.log(level: level.loggerLevel, "\(message)")
    }

    func clusterExists(_ name: String) -> Bool {
        sideCalls.hasCluster(name)
    }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        LuaHTTPCallBridge.call(headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                               asynchronous: asynchronous, completion: completion) { [sideCalls] head, body, timeout, done in
            sideCalls.httpCall(cluster: cluster, head: head, body: body, timeout: timeout, completion: done)
        }
    }
}

@available(*, unavailable)
extension LoopBackgroundHost: Sendable {}

/// A task scheduled on a loop, cancellable through the Lua side's protocol. Only touched on its loop.
final class ScheduledLoopWork: LuaScheduledWork {
    private let scheduled: Scheduled<Void>

    init(_ scheduled: Scheduled<Void>) {
        self.scheduled = scheduled
    }

    func cancel() {
        scheduled.cancel()
    }
}

@available(*, unavailable)
extension ScheduledLoopWork: Sendable {}
