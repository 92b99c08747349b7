import NIOSSL

/// What the handshake of a downstream TLS connection settled, recorded once per connection
/// and shared by its requests (`HTTPExchange.tls`).
public struct TLSConnectionInfo: Sendable, Equatable {
    /// "TLSv1.2" or "TLSv1.3", as Envoy names them.
    public var version: String
    /// The SNI the client sent, lowercased; nil when it sent none.
    public var serverName: String?
    /// The ALPN protocol agreed on, if any.
    public var negotiatedProtocol: String?
    /// nil when the client presented no certificate.
    public var peer: PeerIdentity?
    /// The certificate chained to the listener's `client_ca` (only ever true with mTLS).
    public var peerValidated: Bool
    /// Whether `allowed_identities` lets this peer in.
    public var identityAllowed: Bool

    public init(version: String, serverName: String? = nil, negotiatedProtocol: String? = nil, peer: PeerIdentity? = nil,
                peerValidated: Bool = false, identityAllowed: Bool = true) {
        self.version = version
        self.serverName = serverName
        self.negotiatedProtocol = negotiatedProtocol
        self.peer = peer
        self.peerValidated = peerValidated
        self.identityAllowed = identityAllowed
    }

    static func name(of version: NIOSSL.TLSVersion?) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        case nil: return ""
        }
    }
}
