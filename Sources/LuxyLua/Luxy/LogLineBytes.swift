import LuxyConfig

/// The bytes of the log line being rendered: one buffer a format keeps from line to line,
/// grown by doubling and written with plain copies. `Array.append` checked the array's
/// uniqueness and capacity for every piece of a line, a seventh of its rendering time.
///
/// Loop-confined, as the `LuaLogFormat` that holds it.
final class LogLineBytes {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 512) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The line so far; valid only inside `body`.
    func withBytes<Result, Failure: Error>(_ body: (UnsafeRawBufferPointer) throws(Failure) -> Result)
        throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    var array: [UInt8] { withBytes { Array($0) } }

    func removeAll() { count = 0 }

    func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: UnsafeBufferPointer<UInt8>) { append(UnsafeRawBufferPointer(bytes)) }

    func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// A string's UTF-8, copied from where the string keeps it.
    func append<Text: StringProtocol>(_ string: Text) {
        string.withUTF8Bytes { append($0) }
    }

    /// `n` in decimal, without making a String.
    func appendDecimal(_ n: Int) {
        if n < 0 { append(UInt8(ascii: "-")) }
        let magnitude = n.magnitude
        var divisor: UInt = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        repeat {
            append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
            divisor /= 10
        } while divisor > 0
    }

    private func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        var grown = capacity * 2
        while grown < count + more { grown *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = grown
    }
}

@available(*, unavailable)
extension LogLineBytes: Sendable {}
