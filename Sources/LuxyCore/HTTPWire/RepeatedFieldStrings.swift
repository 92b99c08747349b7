#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The strings of header field names and values seen lately, handed out again when the same
/// bytes come back. A field longer than 15 bytes does not fit inside a `String` and costs an
/// allocation and a copy each time it is read; most of them repeat from message to message:
/// an upstream's `date` (the same for a second), `content-type` and `server`, a client's
/// `user-agent`, `accept` and `authorization`. Comparing the bytes with the string kept is
/// cheaper than making a new one.
///
/// Direct-mapped: a field's bytes pick one slot (by length and a few bytes), whose string is
/// used when its bytes are the same, else replaced. So a lookup is one comparison, the memory
/// is bounded (`slotCount` strings of at most `maximumLength` bytes), and fields that do not
/// repeat only cost the comparison they fail.
///
/// Shared by the connections of one event loop (client requests) or of one upstream pool
/// (its endpoint's responses), so an idle connection holds none; confined to that loop.
final class RepeatedFieldStrings {
    /// Shorter strings are stored inside the `String` itself: nothing to save.
    static let inlineLength = 15
    /// Longer ones (a cookie, a token) rarely repeat and would only pin memory.
    static let maximumLength = 256
    static let slotCount = 32

    private var slots = [String?](repeating: nil, count: slotCount)

    /// The string of `bytes`, decoded as UTF-8 as `String(decoding:as:)` does.
    func string(_ bytes: UnsafeRawBufferPointer) -> String {
        let count = bytes.count
        guard count > Self.inlineLength, count <= Self.maximumLength else {
            return String(decoding: bytes, as: UTF8.self)
        }
        let slot = Self.slot(of: bytes)
        if let kept = slots[slot], Self.same(kept, bytes) { return kept }
        let made = String(decoding: bytes, as: UTF8.self)
        slots[slot] = made
        return made
    }

    /// Length, and the bytes where fields that differ usually do: the start of a name (they
    /// share few prefixes) and the end of a value (a date's seconds, a token's tail).
    private static func slot(of bytes: UnsafeRawBufferPointer) -> Int {
        let count = bytes.count
        var hash = UInt(truncatingIfNeeded: count) &* 0x9E37_79B9
        hash = (hash ^ UInt(bytes[0])) &* 31
        hash = (hash ^ UInt(bytes[1])) &* 31
        hash = (hash ^ UInt(bytes[count / 2])) &* 31
        hash = (hash ^ UInt(bytes[count - 2])) &* 31
        hash = (hash ^ UInt(bytes[count - 1])) &* 31
        return Int(hash % UInt(slotCount))
    }

    /// Whether `string` is exactly these bytes. A string made from bytes that were not UTF-8
    /// holds replacement characters instead, so it never matches them, and is made again.
    private static func same(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            utf8.count == bytes.count && memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
    }
}

@available(*, unavailable)
extension RepeatedFieldStrings: Sendable {}
