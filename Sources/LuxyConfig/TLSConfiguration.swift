/// TLS termination on a listener: certificates (picked by SNI), optional mTLS.
public struct ListenerTLSConfiguration: Sendable, Equatable {
    public struct Certificate: Sendable, Equatable {
        /// Absolute paths of PEM files.
        public var certificateChainFile: String
        public var privateKeyFile: String
        /// SNI names this certificate answers; the first certificate also answers any other name.
        public var serverNames: [String]

        public init(certificateChainFile: String, privateKeyFile: String, serverNames: [String] = []) {
            self.certificateChainFile = certificateChainFile
            self.privateKeyFile = privateKeyFile
            self.serverNames = serverNames
        }
    }

    public enum ClientCertificatePolicy: String, Sendable { case none, optional, required }

    public var certificates: [Certificate]
    /// PEM bundle of the CAs client certificates must chain to (mTLS).
    public var clientCAFile: String?
    public var clientCertificate: ClientCertificatePolicy
    /// Peer identities let in: a SAN URI (`spiffe://…`), a SAN DNS name, or a subject CN.
    /// Empty: any verified peer.
    public var allowedIdentities: [String]
    /// ALPN protocols offered, in preference order.
    public var alpn: [String]
    public var minimumVersion: TLSVersion

    public init(certificates: [Certificate], clientCAFile: String? = nil, clientCertificate: ClientCertificatePolicy = .none,
                allowedIdentities: [String] = [], alpn: [String] = ["h2", "http/1.1"], minimumVersion: TLSVersion = .v1_2) {
        self.certificates = certificates
        self.clientCAFile = clientCAFile
        self.clientCertificate = clientCertificate
        self.allowedIdentities = allowedIdentities
        self.alpn = alpn
        self.minimumVersion = minimumVersion
    }

    /// Every file the TLS set-up reads, for watching them.
    public var files: [String] {
        certificates.flatMap { [$0.certificateChainFile, $0.privateKeyFile] } + (clientCAFile.map { [$0] } ?? [])
    }
}

public enum TLSVersion: String, Sendable { case v1_2 = "1.2", v1_3 = "1.3" }

/// TLS origination from a cluster to its endpoints.
public struct ClusterTLSConfiguration: Sendable, Equatable {
    /// PEM bundle to verify the upstream with; nil means the system's trust store.
    public var caFile: String?
    /// SNI and the name verified; nil means the endpoint's host.
    public var serverName: String?
    public var verify: Bool
    /// A client certificate, for mTLS to the upstream.
    public var certificateChainFile: String?
    public var privateKeyFile: String?
    public var alpn: [String]

    public init(caFile: String? = nil, serverName: String? = nil, verify: Bool = true,
                certificateChainFile: String? = nil, privateKeyFile: String? = nil, alpn: [String] = []) {
        self.caFile = caFile
        self.serverName = serverName
        self.verify = verify
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.alpn = alpn
    }

    public var files: [String] {
        [caFile, certificateChainFile, privateKeyFile].compactMap { $0 }
    }
}

/// HTTP/2 on a listener: h2 by ALPN on TLS, h2c with prior knowledge on plain ones, next to
/// HTTP/1.1 on the same port. Limits as a hardened edge proxy sets them.
public struct HTTP2Settings: Sendable, Equatable {
    public var enabled: Bool = true
    public var maxConcurrentStreams: Int = 100
    public var initialWindowSize: Int = 1 << 20
    public var maxHeaderListSize: Int = 64 * 1024
    public init() {}
}

/// What a cluster speaks to its endpoints.
public enum UpstreamProtocol: String, Sendable { case http1, http2 }
