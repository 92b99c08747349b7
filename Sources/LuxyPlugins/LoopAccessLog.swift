import LuxyCore
import NIOCore

/// The access-log lines of one loop's scripts (`handle:accessLog(destination, line)`),
/// gathered per destination and handed to its `AccessLogSink` once per loop tick: a burst of
/// requests costs one hand-over, and no request takes a lock. Confined to its event loop.
final class LoopAccessLog {
    private let eventLoop: EventLoop
    private let stats: ProxyStats
    private var batches: [String: [UInt8]] = [:]
    private var lineCounts: [String: Int] = [:]
    private var sinks: [String: AccessLogSink] = [:]
    private enum Flush { case idle, scheduled }
    private var flush = Flush.idle

    init(eventLoop: EventLoop, stats: ProxyStats) {
        self.eventLoop = eventLoop
        self.stats = stats
    }

    /// Adds `line` (a newline is added) for `destination`; the flush is scheduled once per tick.
    func append(_ line: String, to destination: String) throws(AccessLogSinkError) {
        if sinks[destination] == nil { sinks[destination] = try AccessLogSink.sink(for: destination) }
        batches[destination, default: []].append(contentsOf: line.utf8)
        batches[destination]!.append(10)
        lineCounts[destination, default: 0] += 1
        guard case .idle = flush else { return }
        flush = .scheduled
        // The hand-over runs on this loop, where `self` lives: NIOLoopBound says so to Swift.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.handOver() }
    }

    private func handOver() {
        flush = .idle
        for (destination, batch) in batches where !batch.isEmpty {
            if sinks[destination]?.write(batch) != true {
                stats.increment("access_log_lines_dropped", by: lineCounts[destination] ?? 0)
            }
        }
        batches.removeAll(keepingCapacity: true)
        lineCounts.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension LoopAccessLog: Sendable {}
