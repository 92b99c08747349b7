import NIOSSL

/// Who the peer of a TLS connection says it is, read once from its certificate after the
/// handshake, so requests and Lua never touch BoringSSL objects.
public struct PeerIdentity: Sendable, Equatable {
    public var uriSANs: [String]
    public var dnsSANs: [String]
    /// RFC 2253 order (most specific first), as Envoy prints it: `CN=client,O=Example`.
    public var subject: String
    public var commonName: String?
    /// Lowercase hex SHA-256 of the DER certificate (Envoy's `sha256PeerCertificateDigest`).
    public var sha256Digest: String

    public init(uriSANs: [String] = [], dnsSANs: [String] = [], subject: String = "", commonName: String? = nil,
                sha256Digest: String = "") {
        self.uriSANs = uriSANs
        self.dnsSANs = dnsSANs
        self.subject = subject
        self.commonName = commonName
        self.sha256Digest = sha256Digest
    }

    public init(certificate: NIOSSLCertificate) {
        var uris: [String] = []
        var dns: [String] = []
        for name in certificate._subjectAlternativeNames() {
            let text = name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
            switch name.nameType {
            case .uri: uris.append(text)
            case .dnsName: dns.append(text)
            default: break
            }
        }
        let names = certificate.subjectName
        let subject = names.reversed().map { "\(Self.shortName($0.type))=\(Self.escape($0.value))" }
            .joined(separator: ",")
        let digest = (try? certificate.toDERBytes()).map { CertificateFingerprint.sha256Hex(of: $0) } ?? ""
        self.init(uriSANs: uris, dnsSANs: dns, subject: subject,
                  commonName: names.last(where: { $0.type == .commonName })?.value, sha256Digest: digest)
    }

    /// The one name a tcp connection reports (`conn:peerIdentity()`): the first SAN URI (a
    /// SPIFFE ID in a mesh), else the first SAN DNS name, else the subject CN, else the subject.
    public var preferredName: String {
        uriSANs.first ?? dnsSANs.first ?? commonName ?? subject
    }

    /// Whether a peer may in: with no list, any peer that passed the handshake; else a SAN URI,
    /// a SAN DNS name or the subject CN must be on it. No certificate is never on it.
    /// Used by HTTP listeners (403) and meant for TCP listeners too (close the connection).
    public static func isAllowed(_ identity: PeerIdentity?, allowed: [String]) -> Bool {
        guard !allowed.isEmpty else { return true }
        guard let identity else { return false }
        return allowed.contains { candidate in
            identity.uriSANs.contains(candidate) || identity.dnsSANs.contains { $0.lowercased() == candidate.lowercased() }
                || identity.commonName == candidate
        }
    }

    private static func shortName(_ type: SSLCertificateNameType) -> String {
        switch type {
        case .commonName: return "CN"
        case .organization: return "O"
        case .organizationalUnit: return "OU"
        case .country: return "C"
        case .state: return "ST"
        case .city: return "L"
        case .emailAddress: return "emailAddress"
        case .userId: return "UID"
        default: return "OID"
        }
    }

    /// RFC 2253 escaping, so a value with a comma can't fake another attribute.
    private static func escape(_ value: String) -> String {
        var out = ""
        for (index, char) in value.enumerated() {
            if ",+\"\\<>;".contains(char) || (index == 0 && (char == "#" || char == " ")) { out.append("\\") }
            out.append(char)
        }
        return out
    }
}
