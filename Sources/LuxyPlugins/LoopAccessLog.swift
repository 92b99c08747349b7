import LuxyCore
import NIOCore

/// The access-log lines of one loop's scripts (`handle:accessLog(destination, line)`),
/// gathered per destination and handed to its `AccessLogSink` once per loop tick: a burst of
/// requests costs one hand-over, and no request takes a lock. Confined to its event loop.
final class LoopAccessLog {
    /// One destination's sink and the lines of this tick not yet handed to it.
    private struct Batch {
        let sink: AccessLogSink
        var bytes: [UInt8] = []
        var lines = 0

        mutating func add(_ line: UnsafeRawBufferPointer) {
            // The newline fits in the first allocation of the tick.
            if bytes.isEmpty { bytes.reserveCapacity(line.count + 1) }
            bytes.append(contentsOf: line)
            bytes.append(10)
            lines += 1
        }

        /// Gives the lines to the sink (or counts them as dropped) and starts empty again.
        mutating func handOver(stats: ProxyStats) {
            guard lines > 0 else { return }
            // Let go of before the sink keeps it, so the sink's copy is the only one.
            var batch: [UInt8] = []
            swap(&batch, &bytes)
            if !sink.write(batch) { stats.increment("access_log_lines_dropped", by: lines) }
            lines = 0
        }
    }

    private let eventLoop: EventLoop
    private let stats: ProxyStats
    /// Every destination this loop wrote to, kept with its sink across ticks.
    private var batches: [String: Batch] = [:]
    private enum Flush { case idle, scheduled }
    private var flush = Flush.idle

    init(eventLoop: EventLoop, stats: ProxyStats) {
        self.eventLoop = eventLoop
        self.stats = stats
    }

    /// Adds `line` (a newline is added) for `destination`; the flush is scheduled once per tick.
    func append(_ line: UnsafeRawBufferPointer, to destination: String) throws(AccessLogSinkError) {
        // One hash lookup for a destination seen before, and the batch grows in place.
        if batches[destination]?.add(line) == nil {
            var batch = Batch(sink: try AccessLogSink.sink(for: destination))
            batch.add(line)
            batches[destination] = batch
        }
        guard case .idle = flush else { return }
        flush = .scheduled
        // The hand-over runs on this loop, where `self` lives: NIOLoopBound says so to Swift.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.handOver() }
    }

    private func handOver() {
        flush = .idle
        // By index, so each batch is emptied in place (no copy of the table).
        var index = batches.startIndex
        while index != batches.endIndex {
            batches.values[index].handOver(stats: stats)
            batches.formIndex(after: &index)
        }
    }
}

@available(*, unavailable)
extension LoopAccessLog: Sendable {}
