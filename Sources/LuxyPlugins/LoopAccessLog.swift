import LuxyCore
import NIOCore

/// The access-log lines of one loop's scripts (`handle:accessLog(destination, line)`),
/// gathered per destination and handed to its `AccessLogSink` once per loop tick: a burst of
/// requests costs one hand-over, and no request takes a lock. Confined to its event loop.
final class LoopAccessLog {
    /// One destination's sink and the lines of this tick not yet handed to it.
    private struct Batch {
        /// Its destination is the sink's (`sink.destination`).
        let sink: AccessLogSink
        var bytes: [UInt8] = []
        var lines = 0
        /// How many bytes the last tick handed over, up to `maxReserve`: the next tick's first
        /// line reserves as much, so a tick's lines take one allocation, not one per doubling.
        var lastSize = 0
        /// Below malloc's mmap threshold (128 KiB): one burst must not make every later tick
        /// map and unmap a large buffer.
        static let maxReserve = 16 << 10

        init(sink: AccessLogSink) {
            self.sink = sink
        }

        mutating func add(_ line: UnsafeRawBufferPointer) {
            if bytes.isEmpty { bytes.reserveCapacity(max(line.count + 1, lastSize)) }
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
            lastSize = min(batch.count, Self.maxReserve)
            if !sink.write(batch) { stats.increment("access_log_lines_dropped", by: lines) }
            lines = 0
        }
    }

    private let eventLoop: EventLoop
    private let stats: ProxyStats
    /// Every destination this loop wrote to, kept with its sink across ticks. A list, not a
    /// dictionary: there are one or two, and a dictionary's in-place mutation allocated its
    /// accessor's frame on every line (two allocations per request).
    private var batches: [Batch] = []
    private enum Flush { case idle, scheduled }
    private var flush = Flush.idle

    init(eventLoop: EventLoop, stats: ProxyStats) {
        self.eventLoop = eventLoop
        self.stats = stats
    }

    /// Adds `line` (a newline is added) for `destination`; the flush is scheduled once per tick.
    func append(_ line: UnsafeRawBufferPointer, to destination: String) throws(AccessLogSinkError) {
        if let index = batches.firstIndex(where: { $0.sink.destination == destination }) {
            batches[index].add(line)
        } else {
            var batch = Batch(sink: try AccessLogSink.sink(for: destination))
            batch.add(line)
            batches.append(batch)
        }
        guard case .idle = flush else { return }
        flush = .scheduled
        // The hand-over runs on this loop, where `self` lives: NIOLoopBound says so to Swift.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.handOver() }
    }

    private func handOver() {
        flush = .idle
        // By index, so each batch is emptied in place.
        for index in batches.indices {
            batches[index].handOver(stats: stats)
        }
    }
}

@available(*, unavailable)
extension LoopAccessLog: Sendable {}
