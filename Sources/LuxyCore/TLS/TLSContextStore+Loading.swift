import LuxyConfig
import NIOSSL

/// Turning `tls:` into NIOSSL configurations.
extension TLSContextStore {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Forward-secret AEAD suites only for TLS 1.2 (NIOSSL's default list still allows RSA key
    /// exchange and CBC); TLS 1.3 suites are all AEAD and BoringSSL does not let them be chosen.
    static let modernCipherSuites = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5"

    static func makeContexts(_ source: Source) throws -> Contexts {
        switch source {
        case .listener(let tls): return .server(try makeServerContexts(tls))
        case .cluster(let tls): return .client(try makeClientContext(tls))
        }
    }

    private static func makeServerContexts(_ tls: ListenerTLSConfiguration) throws -> ServerContexts {
        let clientCA = try tls.clientCAFile.map { try certificates($0, "client_ca") }
        var contexts: [NIOSSLContext] = []
        var byName: [String: NIOSSLContext] = [:]
        var wildcards: [(suffix: String, context: NIOSSLContext)] = []
        for entry in tls.certificates {
            let chain = try certificates(entry.certificateChainFile, "certificate_chain")
            var config = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) },
                privateKey: .privateKey(try privateKey(entry.privateKeyFile)))
            config.minimumTLSVersion = tls.minimumVersion == .v1_3 ? .tlsv13 : .tlsv12
            config.cipherSuites = modernCipherSuites
            config.applicationProtocols = tls.alpn
            switch tls.clientCertificate {
            case .none: config.certificateVerification = .none
            case .optional: config.certificateVerification = .optionalVerification
            case .required: config.certificateVerification = .noHostnameVerification
            }
            if let clientCA {
                config.trustRoots = .certificates(clientCA)
                config.sendCANameList = true
            }
            let context = try make(config, entry.certificateChainFile)
            contexts.append(context)
            for name in entry.serverNames {
                if name.hasPrefix("*.") {
                    wildcards.append((String(name.dropFirst()), context))
                } else if byName[name] == nil {
                    byName[name] = context
                }
            }
        }
        guard let fallback = contexts.first else { throw LoadError(description: "listener tls has no certificate") }
        return ServerContexts(fallback: fallback, byName: byName, wildcards: wildcards)
    }

    private static func makeClientContext(_ tls: ClusterTLSConfiguration) throws -> NIOSSLContext {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let ca = tls.caFile { config.trustRoots = .certificates(try certificates(ca, "ca")) }
        config.certificateVerification = tls.verify ? .fullVerification : .none
        if let chainFile = tls.certificateChainFile, let keyFile = tls.privateKeyFile {
            config.certificateChain = try certificates(chainFile, "certificate_chain").map { .certificate($0) }
            config.privateKey = .privateKey(try privateKey(keyFile))
        }
        config.applicationProtocols = tls.alpn
        return try make(config, tls.certificateChainFile ?? tls.caFile ?? "cluster tls")
    }

    private static func certificates(_ path: String, _ key: String) throws -> [NIOSSLCertificate] {
        let loaded: [NIOSSLCertificate]
        do {
            loaded = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw LoadError(description: "'\(key)' \(path): cannot read a PEM certificate: \(error)")
        }
        guard !loaded.isEmpty else { throw LoadError(description: "'\(key)' \(path): no PEM certificate in it") }
        return loaded
    }

    private static func privateKey(_ path: String) throws -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw LoadError(description: "'private_key' \(path): cannot read a PEM private key: \(error)")
        }
    }

    /// BoringSSL checks here that the key belongs to the certificate.
    private static func make(_ config: TLSConfiguration, _ what: String) throws -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: config)
        } catch {
            throw LoadError(description: "\(what): cannot build a TLS context: \(error)")
        }
    }
}
