import Foundation
import NIOConcurrencyHelpers
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// One access-log destination of the process — standard output or a file opened for
/// appending — written by a thread of its own, so a slow pipe or disk never blocks an event
/// loop. Loops hand it whole batches of lines (`LoopAccessLog`), once per loop tick at most.
/// Shared by every loop and generation, thread-safe: the pending count is behind a lock
/// taken once per batch, never per request.
final class AccessLogSink: Sendable {
    let destination: String
    private let descriptor: Int32
    /// One thread: batches are written in the order they were handed over.
    private let writer: NIOThreadPool
    /// Bytes handed over and not written yet; over `maxPendingBytes`, batches are dropped
    /// (and counted by the loop) rather than queued without bound.
    private let pendingBytes = NIOLockedValueBox(0)
    static let maxPendingBytes = 8 << 20

    private init(destination: String, descriptor: Int32) {
        self.destination = destination
        self.descriptor = descriptor
        writer = NIOThreadPool(numberOfThreads: 1)
        writer.start()
    }

    /// Hands `batch` (whole lines) to the writer thread; false when it was dropped because
    /// the destination is that far behind.
    func write(_ batch: [UInt8]) -> Bool {
        let admitted = pendingBytes.withLockedValue { pending -> Bool in
            guard pending + batch.count <= Self.maxPendingBytes else { return false }
            pending += batch.count
            return true
        }
        guard admitted else { return false }
        writer.submit { [self] _ in
            writeAll(batch)
            pendingBytes.withLockedValue { $0 -= batch.count }
        }
        return true
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
