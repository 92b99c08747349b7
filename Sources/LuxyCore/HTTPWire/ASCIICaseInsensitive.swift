import LuxyConfig
import NIOHTTP1

extension StringProtocol {
    /// ASCII case-insensitive equality, as HTTP compares field names and tokens, over the
    /// strings' contiguous bytes (`withUTF8Bytes`): header names are compared on every
    /// request. Inlinable, so that other modules get it specialized for `String`: the generic
    /// form walks the bytes through protocol witnesses, several times slower.
    @inlinable
    public func equalsIgnoringASCIICase<Other: StringProtocol>(_ other: Other) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        return withUTF8Bytes { mine in
            other.withUTF8Bytes { theirs in
                zip(mine, theirs).allSatisfy { $0 == $1 || $0.asciiLowercased == $1.asciiLowercased }
            }
        }
    }
}

extension UInt8 {
    @inlinable
    var asciiLowercased: UInt8 { self >= 65 && self <= 90 ? self | 0x20 : self }
}

extension HTTPHeaders {
    /// Envoy's `get`: every value of the field joined with ",", nil when absent. One pass and
    /// no array for the usual single value.
    public func joinedValue(_ name: String) -> String? {
        var found: String?
        for (field, value) in self where field.equalsIgnoringASCIICase(name) {
            guard found == nil else { return self[name].joined(separator: ",") }
            found = value
        }
        return found
    }
}

extension StringProtocol where SubSequence == Substring {
    /// Whether this comma-separated list (a `Connection` or `Upgrade` value) has `token`,
    /// compared ASCII case-insensitively.
    func containsListToken(_ token: String) -> Bool {
        forEachListElement { $0.equalsIgnoringASCIICase(token) }
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
