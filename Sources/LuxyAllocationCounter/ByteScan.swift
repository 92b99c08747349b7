/// Searches over raw bytes for what the clients and the upstream must find in a stream: the
/// end of a head, a header's value, a status code. Strings would allocate; these do not.
enum ByteScan {
    /// The offset just past the first "\r\n\r\n" in `bytes[from..<to]`, or nil.
    static func endOfHead(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        var index = max(from, 0)
        while index + 4 <= to {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 {
                return index + 4
            }
            index += 1
        }
        return nil
    }

    /// The status code of an HTTP/1.1 status line at the start of `bytes`, or nil.
    static func status(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // "HTTP/1.1 200 " — the code is always bytes 9..<12.
        guard bytes.count >= 12, bytes[8] == 32 else { return nil }
        var code = 0
        for index in 9..<12 {
            let digit = Int(bytes[index]) - 48
            guard (0...9).contains(digit) else { return nil }
            code = code * 10 + digit
        }
        return code
    }

    /// The start of the value of the first header called `name` (lowercase ASCII) in the head
    /// `bytes[0..<end]`, skipping the colon and spaces, or nil. Names compare case-insensitively.
    static func headerValue(_ name: [UInt8], in bytes: UnsafeRawBufferPointer, end: Int) -> Int? {
        var lineStart = 0
        while lineStart < end {
            // Header lines follow a "\r\n"; the status line is skipped by the first match on it.
            guard let newline = nextLine(after: lineStart, in: bytes, end: end) else { return nil }
            lineStart = newline
            guard lineStart + name.count < end else { return nil }
            var matches = true
            for offset in 0..<name.count where lower(bytes[lineStart + offset]) != name[offset] {
                matches = false
                break
            }
            guard matches, bytes[lineStart + name.count] == UInt8(ascii: ":") else { continue }
            var value = lineStart + name.count + 1
            while value < end, bytes[value] == 32 || bytes[value] == 9 { value += 1 }
            return value
        }
        return nil
    }

    /// The decimal number starting at `start`, or nil when there is no digit there.
    static func decimal(_ bytes: UnsafeRawBufferPointer, at start: Int, end: Int) -> Int? {
        var index = start
        var number = 0
        while index < end, bytes[index] >= 48, bytes[index] <= 57 {
            number = number * 10 + Int(bytes[index] - 48)
            index += 1
        }
        return index == start ? nil : number
    }

    /// Whether `bytes[at...]` starts with `expected`, comparing ASCII case-insensitively.
    static func startsWith(_ expected: [UInt8], in bytes: UnsafeRawBufferPointer, at: Int, end: Int) -> Bool {
        guard at + expected.count <= end else { return false }
        for offset in 0..<expected.count where lower(bytes[at + offset]) != lower(expected[offset]) {
            return false
        }
        return true
    }

    private static func nextLine(after start: Int, in bytes: UnsafeRawBufferPointer, end: Int) -> Int? {
        var index = start
        while index + 1 < end {
            if bytes[index] == 13, bytes[index + 1] == 10 { return index + 2 }
            index += 1
        }
        return nil
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 65 && byte <= 90) ? byte + 32 : byte
    }
}
