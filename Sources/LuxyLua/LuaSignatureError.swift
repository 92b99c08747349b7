/// Why `verifySignature` answered `false`; the description is the error string the script
/// gets, in Envoy's words where Envoy has them.
enum LuaSignatureError: Error, CustomStringConvertible {
    /// A hash function Envoy does not know, or SHA-224, which swift-crypto lacks.
    case unsupportedHash(String)
    /// The key object came from an import that failed.
    case noKey
    /// The signature does not match (or is not a signature at all).
    case mismatch

    var description: String {
        switch self {
        case .unsupportedHash(let name): "\(name) is not supported."
        case .noKey: "Failed to initialize digest verify."
        case .mismatch: "Failed to verify digest. Error code: 0"
        }
    }
}

/// Why `importPublicKey` could not read a key: the script sees a key object whose `get()` is nil.
enum LuaPublicKeyImportError: Error {
    /// Not a DER SubjectPublicKeyInfo of an RSA or NIST P-256/384/521 key.
    case unsupportedKey
}
