import NIOCore
import NIOHTTP1

/// How one HTTP/1.1 message body is delimited on the wire, decided once from its head (RFC 9112
/// §6). The encoders pick it with the rules NIO's encoders use, so what goes out is what NIO
/// would write, without a channel handler (and its wrapping and casting) per message part.
enum HTTP1BodyFraming {
    /// No body bytes at all: a HEAD or CONNECT answer, 1xx/204/304, a request without length fields.
    case none
    case contentLength
    case chunked
    /// An HTTP/1.0 response without a length: the body runs until the connection closes.
    case untilClose

    /// Writes one body part as the framing wants it through `write`: a chunk is its size
    /// line, the part itself (not copied) and a CRLF.
    func writeBody(_ part: ByteBuffer, allocator: ByteBufferAllocator, _ write: (ByteBuffer) -> Void) {
        switch self {
        case .none:
            return
        case .contentLength, .untilClose:
            write(part)
        case .chunked:
            // An empty chunk would end the body.
            guard part.readableBytes > 0 else { return }
            var size = allocator.buffer(capacity: 24)
            size.writeHexadecimal(part.readableBytes)
            size.writeStaticString("\r\n")
            write(size)
            write(part)
            write(Self.crlf)
        }
    }

    /// The end of the body: the last chunk and trailers when chunked, nothing otherwise
    /// (trailers cannot travel without chunks).
    func endBody(trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard case .chunked = self else { return nil }
        guard let trailers, !trailers.isEmpty else { return Self.lastChunk }
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeStaticString("0\r\n")
        buffer.writeHeaderFields(trailers)
        return buffer
    }

    private static let crlf = ByteBuffer(string: "\r\n")
    private static let lastChunk = ByteBuffer(string: "0\r\n\r\n")
}

extension ByteBuffer {
    /// `name: value` lines and the blank line that ends a head, copied in one write: a
    /// `writeString` per piece would check capacity, uniqueness and exclusive access four
    /// times per field.
    mutating func writeHeaderFields(_ headers: HTTPHeaders) {
        var size = 2
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        writeWithUnsafeMutableBytes(minimumWritableBytes: size) { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            var offset = 0
            for (name, value) in headers {
                offset += Self.copyUTF8(name, to: base + offset)
                base.storeBytes(of: UInt16(bigEndian: 0x3A20), toByteOffset: offset, as: UInt16.self)  // ": "
                offset += 2
                offset += Self.copyUTF8(value, to: base + offset)
                base.storeBytes(of: UInt16(bigEndian: 0x0D0A), toByteOffset: offset, as: UInt16.self)  // CRLF
                offset += 2
            }
            base.storeBytes(of: UInt16(bigEndian: 0x0D0A), toByteOffset: offset, as: UInt16.self)
            return offset + 2
        }
    }

    /// Copies a string's UTF-8 bytes to `destination`; returns how many.
    private static func copyUTF8(_ string: String, to destination: UnsafeMutableRawPointer) -> Int {
        let copied = string.utf8.withContiguousStorageIfAvailable { bytes -> Int in
            guard let source = bytes.baseAddress, bytes.count > 0 else { return 0 }
            destination.copyMemory(from: source, byteCount: bytes.count)
            return bytes.count
        }
        if let copied { return copied }
        var count = 0
        for byte in string.utf8 {
            destination.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
            count += 1
        }
        return count
    }

    mutating func writeHexadecimal(_ value: Int) {
        var digits: UInt64 = 0
        var count = 0
        var rest = value
        repeat {
            digits = digits << 4 | UInt64(rest & 0xF)
            rest >>= 4
            count += 1
        } while rest > 0
        for _ in 0..<count {
            let digit = UInt8(digits & 0xF)
            writeInteger(digit < 10 ? digit + 48 : digit + 87)
            digits >>= 4
        }
    }

    /// A non-negative integer in decimal, without making a String.
    mutating func writeDecimal(_ value: Int) {
        if value < 10 {
            writeInteger(UInt8(48 + value))
            return
        }
        var reversed: UInt64 = 0
        var count = 0
        var rest = value
        while rest > 0 {
            reversed = reversed * 10 + UInt64(rest % 10)
            rest /= 10
            count += 1
        }
        for _ in 0..<count {
            writeInteger(UInt8(48 + reversed % 10))
            reversed /= 10
        }
    }
}

extension HTTPHeaders {
    /// Removes `name` only when present: removing from a head shared with someone else copies
    /// it, even when nothing goes.
    mutating func removeIfPresent(_ name: String) {
        if contains(name: name) { remove(name: name) }
    }
}
