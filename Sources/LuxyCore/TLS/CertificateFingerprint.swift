import Crypto

/// The SHA-256 fingerprint of a certificate, as Envoy's `sha256PeerCertificateDigest()` prints
/// it: lowercase hex of the digest of the DER encoding. swift-crypto computes the digest (NIOSSL
/// keeps BoringSSL's internal). Runs once per mTLS handshake, never per request; a plain value,
/// usable on any thread.
enum CertificateFingerprint {
    static func sha256Hex(of der: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(SHA256.byteCount * 2)
        for byte in SHA256.hash(data: der) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xf)])
        }
        return text
    }
}
