import _CryptoExtras
import Crypto

/// A public key imported by a script (Envoy's `importPublicKey`): RSA (PKCS#1 v1.5
/// signatures) or ECDSA on P-256, P-384 or P-521, from a DER SubjectPublicKeyInfo. All crypto
/// is swift-crypto's; nothing here hashes or verifies by hand. A plain value.
enum LuaPublicKey {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case p521(P521.Signing.PublicKey)

    init(subjectPublicKeyInfo der: [UInt8]) throws(LuaPublicKeyImportError) {
        if let key = try? P256.Signing.PublicKey(derRepresentation: der) {
            self = .p256(key)
        } else if let key = try? P384.Signing.PublicKey(derRepresentation: der) {
            self = .p384(key)
        } else if let key = try? P521.Signing.PublicKey(derRepresentation: der) {
            self = .p521(key)
        } else if let key = try? _RSA.Signing.PublicKey(unsafeDERRepresentation: der) {
            // "unsafe" admits 1024-bit keys, which BoringSSL (and so Envoy) verifies with too.
            self = .rsa(key)
        } else {
            throw .unsupportedKey
        }
    }

    /// Verifies `signature` (raw for RSA, DER for ECDSA, as `openssl dgst -sign` writes them)
    /// over `data` hashed with `hash`.
    func verify(_ signature: [UInt8], of data: [UInt8], hash: LuaSignatureHash) throws(LuaSignatureError) {
        let valid: Bool
        switch hash {
        case .sha1: valid = isValid(signature, for: Insecure.SHA1.hash(data: data))
        case .sha256: valid = isValid(signature, for: SHA256.hash(data: data))
        case .sha384: valid = isValid(signature, for: SHA384.hash(data: data))
        case .sha512: valid = isValid(signature, for: SHA512.hash(data: data))
        case .sha224: throw .unsupportedHash(hash.rawValue)
        }
        guard valid else { throw .mismatch }
    }

    private func isValid<D: Digest>(_ signature: [UInt8], for digest: D) -> Bool {
        switch self {
        case .rsa(let key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: digest,
                                        padding: .insecurePKCS1v1_5)
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        case .p384(let key):
            guard let parsed = try? P384.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        case .p521(let key):
            guard let parsed = try? P521.Signing.ECDSASignature(derRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: digest)
        }
    }
}
