import LuxyConfig
import NIOHTTP1

/// The count and size a head may have when a stage leaves it: the same limits the edge puts on
/// what clients send (`max_header_count`, `max_header_bytes`), so a script can't send an
/// upstream or a client what no client could send us (10,000 fields, a 16 MiB value).
/// A value type made once per generation.
struct EmittedHeadLimits {
    let maxCount: Int
    let maxBytes: Int

    init(limits: LimitsConfiguration) {
        maxCount = limits.maxHeaderCount
        maxBytes = limits.maxHeaderBytes
    }

    /// Why `headers` are over the limits, or nil when they are within them.
    func violation(_ headers: HTTPHeaders) -> String? {
        if headers.count > maxCount { return "\(headers.count) header fields, over the limit of \(maxCount)" }
        var bytes = 0
        for (name, value) in headers { bytes += name.utf8.count + value.utf8.count }
        if bytes > maxBytes { return "\(bytes) bytes of header fields, over the limit of \(maxBytes)" }
        return nil
    }
}
