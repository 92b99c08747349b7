extension StringProtocol {
    /// ASCII case-insensitive equality with a lower-case `other`, without allocating: header
    /// names are compared on every request.
    func equalsLowercased(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var expected = other.utf8.makeIterator()
        for byte in utf8 {
            let folded = byte >= 65 && byte <= 90 ? byte | 0x20 : byte
            if folded != expected.next() { return false }
        }
        return true
    }

}

extension StringProtocol where SubSequence == Substring {
    /// Whether this comma-separated list (a `Connection` or `Upgrade` value) has `token`,
    /// compared ASCII case-insensitively with the lower-case `token`.
    func containsListToken(_ token: String) -> Bool {
        forEachListElement { $0.equalsLowercased(token) }
    }

    /// Calls `body` with each element of this comma-separated list, trimmed, until it returns
    /// true; returns whether one did. Walks the list in place: `split` would allocate an array.
    func forEachListElement(_ body: (Substring) -> Bool) -> Bool {
        var rest = self[...]
        while true {
            let comma = rest.utf8.firstIndex(of: UInt8(ascii: ","))
            if body(rest[..<(comma ?? rest.endIndex)].trimmingHTTPSpaces()) { return true }
            guard let comma else { return false }
            rest = rest[rest.utf8.index(after: comma)...]
        }
    }
}

extension Substring {
    /// Without the spaces and tabs around it; walks bytes, not Characters (no grapheme breaking).
    func trimmingHTTPSpaces() -> Substring {
        let bytes = utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start = bytes.index(after: start) }
        while start < end {
            let last = bytes.index(before: end)
            guard bytes[last] == 0x20 || bytes[last] == 0x09 else { break }
            end = last
        }
        return self[start..<end]
    }
}
