import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// One access-log destination of the process — standard output or a file opened for
/// appending — written by a thread of its own, so a slow pipe or disk never blocks an event
/// loop. Loops hand it whole batches of lines (`LoopAccessLog`), once per loop tick at most;
/// the writer gathers what comes within `gatherInterval` into one write, so it wakes (a
/// futex wake-up and two context switches on the loop's CPU) a hundred times a second at
/// most, not once per tick. Shared by every loop and generation, thread-safe: the lines
/// waiting are behind a lock taken once per batch, never per request.
final class AccessLogSink: Sendable {
    let destination: String
    private let descriptor: Int32
    /// One thread: batches are written in the order they were handed over.
    private let writer: NIOThreadPool
    /// What the loops handed over and the writer has not taken yet.
    private struct Waiting {
        var bytes: [UInt8] = []
        var write = WriteState.idle
    }
    private enum WriteState {
        /// Nothing waits, or the writer took it: the next batch must wake the writer.
        case idle
        /// A write is on its way to the writer thread: later batches join it without waking it.
        case scheduled
    }
    /// Over `maxPendingBytes` waiting, batches are dropped (and counted by the loop) rather
    /// than queued without bound.
    private let waiting = NIOLockedValueBox(Waiting())
    static let maxPendingBytes = 8 << 20
    /// How long the writer waits for more lines before it writes what it has.
    static let gatherInterval = TimeAmount.milliseconds(10)

    private init(destination: String, descriptor: Int32) {
        self.destination = destination
        self.descriptor = descriptor
        writer = NIOThreadPool(numberOfThreads: 1)
        writer.start()
    }

    /// Hands `batch` (whole lines) to the writer thread; false when it was dropped because
    /// the destination is that far behind.
    func write(_ batch: [UInt8]) -> Bool {
        let handover = waiting.withLockedValue { waiting -> Handover in
            guard waiting.bytes.count + batch.count <= Self.maxPendingBytes else { return .dropped }
            // The first batch of an interval is taken as it is: its loop let go of it.
            if waiting.bytes.isEmpty { waiting.bytes = batch } else { waiting.bytes.append(contentsOf: batch) }
            guard case .idle = waiting.write else { return .joinedScheduledWrite }
            waiting.write = .scheduled
            return .scheduleWrite
        }
        switch handover {
        case .dropped:
            return false
        case .joinedScheduledWrite:
            return true
        case .scheduleWrite:
            writer.submit { [self] _ in
                usleep(UInt32(Self.gatherInterval.nanoseconds / 1000))
                writeWaiting()
            }
            return true
        }
    }

    /// What became of a batch handed over.
    private enum Handover {
        case dropped
        /// It waits with the lines of a write already scheduled.
        case joinedScheduledWrite
        /// It is the first since the last write: the writer must be woken for it.
        case scheduleWrite
    }

    /// On the writer thread: takes every line waiting and writes them.
    private func writeWaiting() {
        let bytes = waiting.withLockedValue { waiting -> [UInt8] in
            waiting.write = .idle
            var taken: [UInt8] = []
            swap(&taken, &waiting.bytes)
            return taken
        }
        writeAll(bytes)
    }

    /// Writes every line handed over so far, and returns once they are written: at the end
    /// of the process, after the loops stopped, so that the last requests' lines are not lost.
    static func flushAll() async {
        let sinks = registry.withLockedValue { Array($0.values) }
        for sink in sinks {
            // Behind any write already scheduled: the one thread keeps the lines in order.
            try? await sink.writer.runIfActive { sink.writeWaiting() }
        }
    }

    /// On the writer thread. A pipe takes at most PIPE_BUF bytes atomically, so lines are
    /// written in pieces of whole lines no larger than that where they fit: another writer
    /// of the same pipe never splits a line.
    private func writeAll(_ batch: [UInt8]) {
        batch.withUnsafeBytes { bytes in
            var start = 0
            while start < bytes.count {
                var end = min(start + 4096, bytes.count)
                if end < bytes.count, let lastNewline = bytes[start..<end].lastIndex(of: 10) {
                    end = lastNewline + 1
                }
                var offset = start
                while offset < end {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, end - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return  // a closed pipe or a full disk: the rest of the batch is lost
                    }
                }
                start = end
            }
        }
    }

    private static let registry = NIOLockedValueBox<[String: AccessLogSink]>([:])

    /// The sink of `destination` (`stdout` or a file path), opened on first use and kept for
    /// the life of the process, across reloads.
    static func sink(for destination: String) throws(AccessLogSinkError) -> AccessLogSink {
        let result = registry.withLockedValue { sinks -> Result<AccessLogSink, AccessLogSinkError> in
            if let sink = sinks[destination] { return .success(sink) }
            let descriptor: Int32
            if destination == "stdout" {
                descriptor = STDOUT_FILENO
            } else {
                descriptor = open(destination, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else {
                    return .failure(AccessLogSinkError(message: "cannot open access log '\(destination)': \(String(cString: strerror(errno)))"))
                }
            }
            let sink = AccessLogSink(destination: destination, descriptor: descriptor)
            sinks[destination] = sink
            return .success(sink)
        }
        return try result.get()
    }
}

struct AccessLogSinkError: Error, Sendable {
    var message: String
}
