import LuxyCore
import LuxyLua

extension ExchangeLuaHost {
    /// The downstream handshake as `connection():ssl()` shows it.
    var ssl: LuaSSLInfo? {
        guard let tls = exchange.tls else { return nil }
        return LuaSSLInfo(
            peerCertificatePresented: tls.peer != nil, peerCertificateValidated: tls.peerValidated,
            uriSANs: tls.peer?.uriSANs ?? [], dnsSANs: tls.peer?.dnsSANs ?? [], subject: tls.peer?.subject ?? "",
            sha256Digest: tls.peer?.sha256Digest ?? "", tlsVersion: tls.version, serverName: tls.serverName ?? "",
            alpn: tls.negotiatedProtocol ?? "")
    }
}
