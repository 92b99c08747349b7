import NIOConcurrencyHelpers
import XCTest

@testable import LuxyLua

/// A loop for a VM's background work that runs only when the test says: scheduled work waits
/// in `scheduled` until `fireDue()`, slices in `pendingTicks` until `runTicks()`.
final class FakeBackgroundHost: LuaBackgroundHost {
    final class Work: LuaScheduledWork {
        let seconds: Double
        let run: () -> Void
        private(set) var cancelled = false
        init(seconds: Double, run: @escaping () -> Void) {
            self.seconds = seconds
            self.run = run
        }
        func cancel() { cancelled = true }
    }

    var scheduled: [Work] = []
    var pendingTicks: [() -> Void] = []
    var logs: [String] = []
    var calls: [String] = []
    /// Wake-ups from any thread, counted; `runWoken()` runs the consumers woken.
    let wakeUps = NIOLockedValueBox<[Int]>([])
    var wakers: [() -> Void] = []

    func schedule(after seconds: Double, _ work: @escaping () -> Void) -> LuaScheduledWork {
        let item = Work(seconds: seconds, run: work)
        scheduled.append(item)
        return item
    }

    func continueLater(_ work: @escaping () -> Void) { pendingTicks.append(work) }

    func makeWaker(_ work: @escaping () -> Void) -> @Sendable () -> Void {
        wakers.append(work)
        let index = wakers.count - 1
        let wakeUps = self.wakeUps
        return { wakeUps.withLockedValue { $0.append(index) } }
    }

    func log(_ level: LuaLogLevel, _ message: String, chunkName: String) {
        logs.append("\(level) \(chunkName): \(message)")
    }

    func clusterExists(_ name: String) -> Bool { name == "collector" }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        calls.append("\(cluster) \(String(decoding: body, as: UTF8.self))")
        pendingTicks.append { completion(.success(LuaHTTPCallResponse(headers: [(":status", "202")], body: []))) }
    }

    /// Runs every scheduled work not cancelled (as if its time came), then the slices they queue.
    func fireDue() {
        let due = scheduled
        scheduled = []
        for work in due where !work.cancelled { work.run() }
        runTicks()
    }

    func runTicks() {
        var ran = 0
        while !pendingTicks.isEmpty, ran < 100_000 {
            pendingTicks.removeFirst()()
            ran += 1
        }
    }

    func runWoken() {
        while true {
            let woken = wakeUps.withLockedValue { all in
                defer { all = [] }
                return all
            }
            if woken.isEmpty { return }
            for index in woken { wakers[index]() }
            runTicks()
        }
    }
}
