/// What `handle:connection():ssl()` shows of a downstream TLS connection (Envoy's
/// SSL connection object). Plain values, copied once per request by the host.
public struct LuaSSLInfo: Sendable, Equatable {
    public var peerCertificatePresented: Bool
    public var peerCertificateValidated: Bool
    public var uriSANs: [String]
    public var dnsSANs: [String]
    /// RFC 2253, e.g. `CN=client,O=Example`; "" without a peer certificate.
    public var subject: String
    /// Lowercase hex; "" without a peer certificate.
    public var sha256Digest: String
    /// "TLSv1.2" or "TLSv1.3".
    public var tlsVersion: String
    /// The SNI the client asked for; "" when it sent none.
    public var serverName: String
    /// The ALPN protocol agreed on; "" when none.
    public var alpn: String

    public init(peerCertificatePresented: Bool = false, peerCertificateValidated: Bool = false, uriSANs: [String] = [],
                dnsSANs: [String] = [], subject: String = "", sha256Digest: String = "", tlsVersion: String = "",
                serverName: String = "", alpn: String = "") {
        self.peerCertificatePresented = peerCertificatePresented
        self.peerCertificateValidated = peerCertificateValidated
        self.uriSANs = uriSANs
        self.dnsSANs = dnsSANs
        self.subject = subject
        self.sha256Digest = sha256Digest
        self.tlsVersion = tlsVersion
        self.serverName = serverName
        self.alpn = alpn
    }
}
