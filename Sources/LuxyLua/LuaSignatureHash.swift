/// The hash functions Envoy's `verifySignature(hashFunction, ...)` names, compared without
/// regard to case as Envoy does.
enum LuaSignatureHash: String {
    case sha1, sha224, sha256, sha384, sha512

    init?(scriptName: String) {
        self.init(rawValue: scriptName.lowercased())
    }
}
