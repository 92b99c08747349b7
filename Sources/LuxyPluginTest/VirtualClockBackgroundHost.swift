import LuxyLua
import NIOCore

/// The background host of a test file's VMs: timers run on a clock the test moves
/// (`luxy_test.advance`), not on the wall clock, so a test of a 10 s flush takes no time and
/// never races one; `luxy.httpCall` from a callback gets the answers the advance scripted,
/// on a later tick, as a cluster's would. Confined to the harness's loop.
final class VirtualClockBackgroundHost: LuaBackgroundHost {
    /// Where an advance is: none running, or moving the clock to `target`.
    private enum Progress {
        case idle
        case advancing(target: Double, completion: (BackgroundActivity) -> Void)
    }

    private let eventLoop: EventLoop
    /// Seconds since the file started, on the virtual clock.
    private(set) var now: Double = 0
    private var queue: [VirtualScheduledWork] = []
    private var scheduled = 0
    private var progress = Progress.idle
    /// Host callbacks still to come (a side call's answer, a slice's continuation): a run that
    /// waits for one has not ended, so the clock waits too.
    private var outstanding = 0
    private var sideCalls: ScriptedSideCalls
    private var logs: [RecordedLog] = []

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        sideCalls = ScriptedSideCalls(answers: ScriptedCalls(), eventLoop: eventLoop, configuredClusters: [])
    }

    /// Moves the clock on by `seconds`, running the work that comes due in order, each run to
    /// its end (its side calls answered) before the next; `completion` gets what they did, and
    /// what `luxy.log` said since the last advance.
    func advance(by seconds: Double, answers: ScriptedCalls, completion: @escaping (BackgroundActivity) -> Void) {
        sideCalls = ScriptedSideCalls(answers: answers, eventLoop: eventLoop, configuredClusters: [])
        progress = .advancing(target: now + max(0, seconds), completion: completion)
        step()
    }

    private func step() {
        guard case .advancing(let target, let completion) = progress else { return }
        while outstanding == 0 {
            guard let next = nextDue(by: target) else {
                now = target
                progress = .idle
                let activity = BackgroundActivity(calls: sideCalls.recorded, logs: logs)
                logs = []
                return completion(activity)
            }
            now = max(now, next.at)
            next.run()
        }
        // A run waits for the host: `settled` steps on once it answered.
    }

    /// The earliest work due by `target` (the first scheduled among equals), taken off the queue.
    private func nextDue(by target: Double) -> VirtualScheduledWork? {
        queue.removeAll { !$0.isPending }
        var earliest: Int?
        for index in queue.indices where queue[index].at <= target {
            if let current = earliest, !queue[index].comesBefore(queue[current]) { continue }
            earliest = index
        }
        return earliest.map { queue.remove(at: $0) }
    }

    private func settled() {
        outstanding -= 1
        if outstanding == 0 { step() }
    }

    // MARK: LuaBackgroundHost

    func schedule(after seconds: Double, _ work: @escaping () -> Void) -> LuaScheduledWork {
        scheduled += 1
        let item = VirtualScheduledWork(at: now + seconds, sequence: scheduled, work: work)
        queue.append(item)
        return item
    }

    func continueLater(_ work: @escaping () -> Void) {
        outstanding += 1
        eventLoop.assumeIsolated().execute { [self] in
            work()
            settled()
        }
    }

    func makeWaker(_ work: @escaping () -> Void) -> @Sendable () -> Void {
        let eventLoop = self.eventLoop
        let bound = NIOLoopBound(work, eventLoop: eventLoop)
        return { eventLoop.execute { bound.value() } }
    }

    func log(_ level: LuaLogLevel, _ message: String, chunkName: String) {
        logs.append(RecordedLog(level: level, message: message, plugin: chunkName))
    }

    func clusterExists(_ name: String) -> Bool {
        sideCalls.knows(name)
    }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        guard !asynchronous else {
            return sideCalls.call(cluster: cluster, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                                  asynchronous: true, completion: completion)
        }
        outstanding += 1
        sideCalls.call(cluster: cluster, headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                       asynchronous: false) { [self] answer in
            completion(answer)
            settled()
        }
    }
}

@available(*, unavailable)
extension VirtualClockBackgroundHost: Sendable {}

/// What background work did during one advance. A value, made on the harness's loop.
struct BackgroundActivity {
    var calls: [RecordedCall]
    var logs: [RecordedLog]
}
