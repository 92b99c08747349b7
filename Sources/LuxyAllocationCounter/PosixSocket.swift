#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP socket on 127.0.0.1 with only the calls the harness needs. Each call is a
/// plain system call on memory the caller owns, so the client and the upstream allocate
/// nothing per request and the counts belong to Luxy alone.
struct PosixSocket {
    let descriptor: Int32

    /// A listening socket on 127.0.0.1 with a port the kernel picks, and that port.
    static func listen() throws -> (socket: PosixSocket, port: Int) {
        let socket = try PosixSocket(descriptor: make())
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(socket.descriptor, 128) == 0 else {
            socket.close()
            throw HarnessError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket.descriptor, $0, &length) }
        }
        return (socket, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A connection to 127.0.0.1:`port`.
    static func connect(port: Int) throws -> PosixSocket {
        let socket = try PosixSocket(descriptor: make())
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            socket.close()
            throw HarnessError("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
        socket.setNoDelay()
        return socket
    }

    /// The next connection, or nil when accept failed (the upstream keeps serving the others).
    func accept() -> PosixSocket? {
        let descriptor = Glibc.accept(self.descriptor, nil, nil)
        guard descriptor >= 0 else { return nil }
        let socket = PosixSocket(descriptor: descriptor)
        socket.setNoDelay()
        return socket
    }

    func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw HarnessError("write failed: errno \(errno)")
            }
            offset += written
        }
    }

    /// Reads what is there into `buffer`; 0 means the peer closed.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress!, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw HarnessError("read failed: errno \(errno)")
        }
    }

    func close() {
        _ = Glibc.close(descriptor)
    }

    private static func make() throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed: errno \(errno)") }
        return descriptor
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }

    /// Small request/response writes would otherwise wait on Nagle and delayed ACKs.
    private func setNoDelay() {
        var on: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }
}
