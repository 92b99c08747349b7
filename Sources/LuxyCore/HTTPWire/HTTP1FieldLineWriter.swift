import NIOCore

/// The fields written out again as field lines (`name: value` CRLF), byte for byte what
/// `ByteBuffer.writeHeaderFields` writes for the same fields read into strings, with no
/// string made: for a head forwarded as it came (`UpstreamResponseHeadParser.parseForwarding`).
/// One difference: a value's bytes that are not UTF-8 (obs-text, a Latin-1 file name) go on as
/// they came, where a string made of them holds replacement characters instead, as nginx and
/// Envoy pass such bytes on.
///
/// A value made and used within one read, on one loop.
struct HTTP1FieldLineWriter: HTTP1FieldSink {
    var buffer: ByteBuffer

    mutating func keep(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        let size = name.count + value.count + 4
        // One write (one capacity and uniqueness check) per line, not four.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { line in
            guard let base = line.baseAddress else { return 0 }
            var offset = 0
            if let source = name.baseAddress { base.copyMemory(from: source, byteCount: name.count) }
            offset += name.count
            base.storeBytes(of: UInt16(bigEndian: 0x3A20), toByteOffset: offset, as: UInt16.self)  // ": "
            offset += 2
            if let source = value.baseAddress, value.count > 0 {
                (base + offset).copyMemory(from: source, byteCount: value.count)
            }
            offset += value.count
            base.storeBytes(of: UInt16(bigEndian: 0x0D0A), toByteOffset: offset, as: UInt16.self)  // CRLF
            return size
        }
    }
}
