import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The upstream: an HTTP/1.1 server on 127.0.0.1 that answers every request head with the same
/// keep-alive response, shaped like the bench's nginx backend (`server`, `date`,
/// `content-type`, `connection: keep-alive`, a 3-byte body).
///
/// One thread polls the listener and every connection. The buffers and the poll set are
/// allocated once at start, so serving a request allocates nothing and the process's count is
/// Luxy's. Requests have no body, so a request ends at "\r\n\r\n".
final class FixedUpstream: @unchecked Sendable {
    // @unchecked: after `start` returns, only the serving thread touches the connections.

    static let response: [UInt8] = Array(("HTTP/1.1 200 OK\r\n" +
        "server: nginx/1.22.1\r\n" +
        "date: Thu, 03 Dec 2026 10:00:00 GMT\r\n" +
        "content-type: text/plain\r\n" +
        "content-length: 3\r\n" +
        "connection: keep-alive\r\n" +
        "\r\n" +
        "ok\n").utf8)

    /// More than Luxy's pool opens for one sequential client; a connection past it is closed.
    private static let maxConnections = 64
    private static let bufferSize = 16 * 1024

    let port: Int
    private let listener: PosixSocket
    private let pollSet: UnsafeMutablePointer<pollfd>
    private let buffers: UnsafeMutableRawBufferPointer
    private let filled: UnsafeMutablePointer<Int>
    private let responseBytes: UnsafeMutableRawBufferPointer
    private var connections = 0

    private init(listener: PosixSocket, port: Int) {
        self.listener = listener
        self.port = port
        pollSet = .allocate(capacity: Self.maxConnections + 1)
        buffers = .allocate(byteCount: Self.maxConnections * Self.bufferSize, alignment: 16)
        filled = .allocate(capacity: Self.maxConnections)
        filled.initialize(repeating: 0, count: Self.maxConnections)
        responseBytes = .allocate(byteCount: Self.response.count, alignment: 1)
        responseBytes.copyBytes(from: Self.response)
        pollSet[0] = pollfd(fd: listener.descriptor, events: Int16(POLLIN), revents: 0)
    }

    /// Listens on a fresh port and serves on a thread of its own until the process exits.
    static func start() throws -> FixedUpstream {
        let (listener, port) = try PosixSocket.listen()
        let upstream = FixedUpstream(listener: listener, port: port)
        let thread = Thread { upstream.serve() }
        thread.name = "upstream"
        thread.start()
        return upstream
    }

    private func serve() {
        while true {
            let ready = poll(pollSet, nfds_t(connections + 1), -1)
            if ready < 0 { continue }
            if pollSet[0].revents != 0 { acceptConnection() }
            // Backwards, so that closing slot i (which moves the last slot into it) skips nothing.
            var slot = connections - 1
            while slot >= 0 {
                if pollSet[slot + 1].revents != 0 { serveReadable(slot) }
                slot -= 1
            }
        }
    }

    private func acceptConnection() {
        guard let socket = listener.accept() else { return }
        guard connections < Self.maxConnections else { return socket.close() }
        pollSet[connections + 1] = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        filled[connections] = 0
        connections += 1
    }

    private func serveReadable(_ slot: Int) {
        let socket = PosixSocket(descriptor: pollSet[slot + 1].fd)
        let buffer = UnsafeMutableRawBufferPointer(rebasing: buffers[(slot * Self.bufferSize)..<((slot + 1) * Self.bufferSize)])
        var used = filled[slot]
        guard used < buffer.count,
              let count = try? socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[used...])),
              count > 0 else {
            return close(slot)
        }
        // Only the new bytes and the three before them can complete a head.
        var searchFrom = max(0, used - 3)
        used += count
        var consumed = 0
        while let end = ByteScan.endOfHead(UnsafeRawBufferPointer(buffer), from: searchFrom, to: used) {
            guard (try? socket.writeAll(UnsafeRawBufferPointer(responseBytes))) != nil else { return close(slot) }
            consumed = end
            searchFrom = end
        }
        if consumed > 0 {
            // Keep a partial next head at the front of the buffer.
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + consumed, byteCount: used - consumed)
            used -= consumed
        }
        filled[slot] = used
    }

    private func close(_ slot: Int) {
        PosixSocket(descriptor: pollSet[slot + 1].fd).close()
        let last = connections - 1
        if slot != last {
            pollSet[slot + 1] = pollSet[last + 1]
            filled[slot] = filled[last]
            let from = buffers.baseAddress! + last * Self.bufferSize
            (buffers.baseAddress! + slot * Self.bufferSize).copyMemory(from: from, byteCount: filled[last])
        }
        connections = last
    }
}
