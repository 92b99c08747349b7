/// The HTTP/1.1 client: one keep-alive connection that sends the same pre-encoded request again
/// and again, as wrk does, and reads each response to its last body byte (content-length
/// framing; Luxy forwards the upstream's).
final class HTTP1Client: RequestClient {
    private static let contentLength: [UInt8] = Array("content-length".utf8)

    private let socket: PosixSocket
    private let request: UnsafeMutableRawBufferPointer
    private let buffer: UnsafeMutableRawBufferPointer
    /// A header the response must carry (ASCII, "name: value"), to prove the path under
    /// measurement ran, e.g. the response stage's `x-plugin: done`.
    private let requiredHeader: [UInt8]?
    private var filled = 0

    init(port: Int, request: String, requiredHeader: String?) throws {
        socket = try PosixSocket.connect(port: port)
        let bytes = Array(request.utf8)
        self.request = .allocate(byteCount: bytes.count, alignment: 1)
        self.request.copyBytes(from: bytes)
        buffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        self.requiredHeader = requiredHeader.map { Array($0.utf8) }
    }

    func roundTrip() throws {
        try socket.writeAll(UnsafeRawBufferPointer(request))
        let bytes = UnsafeRawBufferPointer(buffer)
        var headEnd: Int?
        while headEnd == nil {
            try fill()
            headEnd = ByteScan.endOfHead(bytes, from: 0, to: filled)
        }
        let end = headEnd!
        guard let status = ByteScan.status(bytes), status == 200 else {
            throw HarnessError("response is not 200: \(String(decoding: bytes[0..<end], as: UTF8.self))")
        }
        guard let value = ByteScan.headerValue(Self.contentLength, in: bytes, end: end),
              let length = ByteScan.decimal(bytes, at: value, end: end) else {
            throw HarnessError("response has no content-length: \(String(decoding: bytes[0..<end], as: UTF8.self))")
        }
        if let requiredHeader, !containsLine(requiredHeader, headEnd: end) {
            throw HarnessError("response lacks '\(String(decoding: requiredHeader, as: UTF8.self))': "
                + String(decoding: bytes[0..<end], as: UTF8.self))
        }
        while filled < end + length { try fill() }
        let extra = filled - (end + length)
        guard extra == 0 else { throw HarnessError("\(extra) bytes after the response, none expected") }
        filled = 0
    }

    func close() {
        socket.close()
    }

    private func fill() throws {
        guard filled < buffer.count else { throw HarnessError("response larger than the client's buffer") }
        let count = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
        guard count > 0 else { throw HarnessError("connection closed after \(filled) bytes of a response") }
        filled += count
    }

    private func containsLine(_ line: [UInt8], headEnd: Int) -> Bool {
        let bytes = UnsafeRawBufferPointer(buffer)
        var index = 0
        while index + 1 < headEnd {
            if bytes[index] == 13, bytes[index + 1] == 10,
               ByteScan.startsWith(line, in: bytes, at: index + 2, end: headEnd) {
                return true
            }
            index += 1
        }
        return false
    }
}
