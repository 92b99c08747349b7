/// The h2c client: HTTP/2 with prior knowledge over one cleartext connection, one request at a
/// time on streams 1, 3, 5, …
///
/// The request's HPACK block is encoded once, by hand, as literal fields without indexing and
/// without Huffman coding, so it never touches the server's dynamic table and the same bytes
/// serve every request; only the stream id in the frame header changes. The client answers
/// SETTINGS and PING, and returns the connection's flow-control window as it reads bodies.
final class H2CClient: RequestClient {
    private enum FrameType: UInt8 {
        case data = 0, headers = 1, rstStream = 3, settings = 4, ping = 6, goAway = 7, windowUpdate = 8
    }

    private static let endStream: UInt8 = 0x1
    private static let ack: UInt8 = 0x1
    private static let endHeaders: UInt8 = 0x4
    private static let padded: UInt8 = 0x8
    private static let priority: UInt8 = 0x20
    /// HPACK static table index 8, ":status: 200", as an indexed field.
    private static let status200: UInt8 = 0x88
    /// The connection window is 65,535 bytes until we say otherwise; hand back what was read
    /// once half of it is used.
    private static let windowRefill = 32 * 1024

    private let socket: PosixSocket
    private let headersFrame: UnsafeMutableRawBufferPointer
    private let controlFrame: UnsafeMutableRawBufferPointer
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var filled = 0
    private var streamID: UInt32 = 1
    private var unreturnedWindow = 0

    init(port: Int, authority: String, headers: [(String, String)]) throws {
        socket = try PosixSocket.connect(port: port)
        var block: [UInt8] = []
        for (name, value) in [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", authority)] + headers {
            precondition(name.utf8.count < 127 && value.utf8.count < 127, "one-byte HPACK lengths only")
            block.append(0x00) // literal without indexing, new name
            block.append(UInt8(name.utf8.count))
            block.append(contentsOf: name.utf8)
            block.append(UInt8(value.utf8.count))
            block.append(contentsOf: value.utf8)
        }
        headersFrame = .allocate(byteCount: 9 + block.count, alignment: 1)
        Self.writeFrameHeader(headersFrame, length: block.count, type: .headers,
                              flags: Self.endStream | Self.endHeaders, stream: 1)
        UnsafeMutableRawBufferPointer(rebasing: headersFrame[9...]).copyBytes(from: block)
        controlFrame = .allocate(byteCount: 9 + 8, alignment: 1)
        buffer = .allocate(byteCount: 64 * 1024, alignment: 16)

        // The preface and an empty SETTINGS frame: the defaults are fine.
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, FrameType.settings.rawValue, 0, 0, 0, 0, 0]
        try preface.withUnsafeBytes { try socket.writeAll($0) }
    }

    func roundTrip() throws {
        let stream = streamID
        streamID += 2
        headersFrame.storeBytes(of: stream.bigEndian, toByteOffset: 5, as: UInt32.self)
        try socket.writeAll(UnsafeRawBufferPointer(headersFrame))
        var sawStatus = false
        var ended = false
        while !ended {
            while filled - start >= 9 {
                let length = Int(buffer[start]) << 16 | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2])
                guard filled - start >= 9 + length else { break }
                let type = buffer[start + 3]
                let flags = buffer[start + 4]
                let frameStream = UInt32(bigEndian: buffer.loadUnaligned(fromByteOffset: start + 5, as: UInt32.self))
                    & 0x7FFF_FFFF
                let payload = start + 9
                start = payload + length
                switch FrameType(rawValue: type) {
                case .data:
                    unreturnedWindow += length
                    if frameStream == stream, flags & Self.endStream != 0 { ended = true }
                case .headers where frameStream == stream:
                    if !sawStatus {
                        guard statusIs200(payload: payload, length: length, flags: flags) else {
                            throw HarnessError("stream \(stream): response status is not 200")
                        }
                        sawStatus = true
                    }
                    if flags & Self.endStream != 0 { ended = true }
                case .rstStream where frameStream == stream:
                    throw HarnessError("stream \(stream) was reset")
                case .settings where flags & Self.ack == 0:
                    try sendControl(type: .settings, flags: Self.ack, payloadFrom: nil, length: 0)
                case .ping where flags & Self.ack == 0:
                    try sendControl(type: .ping, flags: Self.ack, payloadFrom: payload, length: 8)
                case .goAway:
                    throw HarnessError("the server sent GOAWAY")
                default:
                    break
                }
            }
            if !ended { try fill() }
        }
        guard sawStatus else { throw HarnessError("stream \(stream) ended without a :status") }
        if unreturnedWindow >= Self.windowRefill { try returnWindow() }
    }

    func close() {
        socket.close()
    }

    /// Skips any dynamic-table-size updates (001xxxxx) and checks that the first field is the
    /// static ":status: 200". An encoder always sends the pseudo-header first and indexes a
    /// status that is in the static table.
    private func statusIs200(payload: Int, length: Int, flags: UInt8) -> Bool {
        var index = payload
        var end = payload + length
        if flags & Self.padded != 0 {
            end -= Int(buffer[index])
            index += 1
        }
        if flags & Self.priority != 0 { index += 5 }
        while index < end, buffer[index] & 0xE0 == 0x20 {
            if buffer[index] & 0x1F == 0x1F {
                index += 1
                while index < end, buffer[index] & 0x80 != 0 { index += 1 }
            }
            index += 1
        }
        return index < end && buffer[index] == Self.status200
    }

    private func sendControl(type: FrameType, flags: UInt8, payloadFrom: Int?, length: Int) throws {
        Self.writeFrameHeader(controlFrame, length: length, type: type, flags: flags, stream: 0)
        if let payloadFrom {
            (controlFrame.baseAddress! + 9).copyMemory(from: buffer.baseAddress! + payloadFrom, byteCount: length)
        }
        try socket.writeAll(UnsafeRawBufferPointer(rebasing: controlFrame[0..<(9 + length)]))
    }

    private func returnWindow() throws {
        Self.writeFrameHeader(controlFrame, length: 4, type: .windowUpdate, flags: 0, stream: 0)
        controlFrame.storeBytes(of: UInt32(unreturnedWindow).bigEndian, toByteOffset: 9, as: UInt32.self)
        try socket.writeAll(UnsafeRawBufferPointer(rebasing: controlFrame[0..<13]))
        unreturnedWindow = 0
    }

    /// Reads more, first moving an unfinished frame to the front of the buffer.
    private func fill() throws {
        if start > 0 {
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: filled - start)
            filled -= start
            start = 0
        }
        guard filled < buffer.count else { throw HarnessError("frame larger than the client's buffer") }
        let count = try socket.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
        guard count > 0 else { throw HarnessError("connection closed") }
        filled += count
    }

    private static func writeFrameHeader(_ frame: UnsafeMutableRawBufferPointer, length: Int, type: FrameType,
                                         flags: UInt8, stream: UInt32) {
        frame[0] = UInt8(truncatingIfNeeded: length >> 16)
        frame[1] = UInt8(truncatingIfNeeded: length >> 8)
        frame[2] = UInt8(truncatingIfNeeded: length)
        frame[3] = type.rawValue
        frame[4] = flags
        frame.storeBytes(of: stream.bigEndian, toByteOffset: 5, as: UInt32.self)
    }
}
