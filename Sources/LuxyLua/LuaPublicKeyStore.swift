/// The keys a request's scripts imported, by their DER bytes, which is what Envoy's key object
/// `get()` returns and `verifySignature` takes back. Kept for the request (its phases share
/// it) and emptied when it ends. Lives on the request's event loop, as its `LuaHTTPStream`.
final class LuaPublicKeyStore {
    /// An import, successful or not; a key object names its entry by index.
    struct Entry {
        var der: [UInt8]
        var key: LuaPublicKey?
    }

    private(set) var entries: [Entry] = []

    /// Imports `der` and returns the index of its entry.
    func importKey(_ der: [UInt8]) -> Int {
        entries.append(Entry(der: der, key: try? LuaPublicKey(subjectPublicKeyInfo: der)))
        return entries.count - 1
    }

    /// A key handed back by its DER bytes (what `get()` returned), nil if never imported.
    func key(der: [UInt8]) -> LuaPublicKey? {
        entries.last { $0.der == der && $0.key != nil }?.key
    }

    func removeAll() {
        entries.removeAll()
    }
}

@available(*, unavailable)
extension LuaPublicKeyStore: Sendable {}
