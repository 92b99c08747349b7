import NIOCore
import NIOHTTP1

// Writing HTTP/1.1 heads and chunk sizes into a ByteBuffer without making Strings, and
// editing a head's fields without copying it for nothing: for the encoders in this folder.
extension ByteBuffer {
    /// A response's status line (`HTTP/1.x NNN reason` CRLF), with the status's standard
    /// reason: what the response encoder writes, and the head forwarded as it came starts with.
    mutating func writeStatusLine(version: HTTPVersion, status: HTTPResponseStatus) {
        writeStaticString(version.minor == 0 && version.major == 1 ? "HTTP/1.0 " : "HTTP/1.1 ")
        writeDecimal(Int(status.code))
        writeStaticString(" ")
        writeString(status.reasonPhrase)
        writeStaticString("\r\n")
    }

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
        var reversed: UInt64 = 0
        var count = 0
        var rest = value
        repeat {
            reversed = reversed * 10 + UInt64(rest % 10)
            rest /= 10
            count += 1
        } while rest > 0
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
