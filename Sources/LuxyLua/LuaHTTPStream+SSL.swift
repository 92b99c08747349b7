import CLua
import CLuaShims

extension LuaHTTPStream {
    /// `connection():ssl()` / `streamInfo():downstreamSslConnection()`: nil on a plain
    /// connection, else the SSL object.
    func pushSSL(_ s: LuaStack, _ run: PhaseRun) -> Int32 {
        if host.ssl == nil {
            s.pushNil()
        } else {
            vm.pushObject(s.L, .ssl, token: run.token)
        }
        return 1
    }

    /// The SSL object's methods (Envoy's names).
    func callSSL(_ method: LuaMethod, _ s: LuaStack) throws(LuaRaise) -> Int32 {
        guard let ssl = host.ssl else { throw LuaRaise("the connection is not TLS") }
        switch method {
        case .sslPeerCertificatePresented: s.push(ssl.peerCertificatePresented)
        case .sslPeerCertificateValidated: s.push(ssl.peerCertificateValidated)
        case .sslUriSanPeerCertificate: pushList(ssl.uriSANs, s)
        case .sslDnsSansPeerCertificate: pushList(ssl.dnsSANs, s)
        case .sslSubjectPeerCertificate: s.push(ssl.subject)
        case .sslSha256PeerCertificateDigest: s.push(ssl.sha256Digest)
        case .sslTlsVersion: s.push(ssl.tlsVersion)
        case .sslSni: s.push(ssl.serverName)
        case .sslAlpn: s.push(ssl.alpn)
        default: throw LuaRaise("'\(method.luaName)' is not an ssl method")
        }
        return 1
    }

    private func pushList(_ values: [String], _ s: LuaStack) {
        lua_createtable(s.L, Int32(clamping: values.count), 0)
        for (index, value) in values.enumerated() {
            s.push(value)
            lua_rawseti(s.L, -2, lua_Integer(index + 1))
        }
    }
}
