import Yams

/// `tls:` and `http2:` on listeners, `tls:` and `protocol:` on clusters.
extension ConfigurationWalker {
    mutating func listenerTLS(_ node: Node, proto: ListenerProtocol?) -> ListenerTLSConfiguration? {
        guard let fields = reader.fields(
            node, context: "listener tls",
            allowed: ["certificates", "client_ca", "client_certificate", "allowed_identities", "alpn", "min_version"],
            required: ["certificates"]) else { return nil }
        let certificates = reader.list(fields, "certificates").compactMap { certificate($0) }
        if let node = fields["certificates"], certificates.isEmpty, case .sequence = node {
            reader.report("'certificates' must have at least one entry", at: node)
        }
        var tls = ListenerTLSConfiguration(certificates: certificates)
        tls.alpn = proto == .tcp ? [] : ["h2", "http/1.1"]
        tls.clientCAFile = file(fields, "client_ca")
        if let policy = reader.oneOf(fields, "client_certificate",
                                     [ListenerTLSConfiguration.ClientCertificatePolicy.none, .optional, .required]) {
            tls.clientCertificate = policy
        }
        if tls.clientCertificate != .none, tls.clientCAFile == nil {
            reader.report("'client_certificate: \(tls.clientCertificate.rawValue)' needs 'client_ca'", at: fields.location)
        }
        if let identities = reader.stringList(fields, "allowed_identities") {
            tls.allowedIdentities = identities
            if tls.clientCertificate == .none, !identities.isEmpty {
                reader.report("'allowed_identities' needs 'client_certificate: required' or 'optional'",
                              at: fields["allowed_identities"] ?? node)
            }
        }
        if let alpn = reader.stringList(fields, "alpn") { tls.alpn = alpn }
        if let version = reader.oneOf(fields, "min_version", [TLSVersion.v1_2, .v1_3]) { tls.minimumVersion = version }
        return tls
    }

    private mutating func certificate(_ node: Node) -> ListenerTLSConfiguration.Certificate? {
        guard let fields = reader.fields(node, context: "certificate",
                                         allowed: ["certificate_chain", "private_key", "server_names"],
                                         required: ["certificate_chain", "private_key"]),
              let chain = file(fields, "certificate_chain"), let key = file(fields, "private_key")
        else { return nil }
        return .init(certificateChainFile: chain, privateKeyFile: key,
                     serverNames: (reader.stringList(fields, "server_names") ?? []).map { $0.lowercased() })
    }

    mutating func http2Settings(_ node: Node) -> HTTP2Settings {
        var settings = HTTP2Settings()
        guard let fields = reader.fields(
            node, context: "http2",
            allowed: ["enabled", "max_concurrent_streams", "initial_window_size", "max_header_list_size"]) else {
            return settings
        }
        if let enabled = reader.bool(fields, "enabled") { settings.enabled = enabled }
        if let value = reader.positiveInt(fields, "max_concurrent_streams") { settings.maxConcurrentStreams = value }
        if let value = reader.positiveInt(fields, "initial_window_size") {
            if value > Int(Int32.max) {
                reader.report("'initial_window_size' must be at most 2147483647", at: fields["initial_window_size"]!)
            } else {
                settings.initialWindowSize = value
            }
        }
        if let value = reader.positiveInt(fields, "max_header_list_size") { settings.maxHeaderListSize = value }
        return settings
    }

    mutating func clusterTLS(_ node: Node) -> ClusterTLSConfiguration? {
        guard let fields = reader.fields(
            node, context: "cluster tls",
            allowed: ["ca", "server_name", "verify", "certificate_chain", "private_key", "alpn"]) else { return nil }
        var tls = ClusterTLSConfiguration()
        tls.caFile = file(fields, "ca")
        tls.serverName = reader.string(fields, "server_name")
        if let verify = reader.bool(fields, "verify") { tls.verify = verify }
        tls.certificateChainFile = file(fields, "certificate_chain")
        tls.privateKeyFile = file(fields, "private_key")
        if (tls.certificateChainFile == nil) != (tls.privateKeyFile == nil) {
            reader.report("a client certificate needs both 'certificate_chain' and 'private_key'", at: fields.location)
        }
        if let alpn = reader.stringList(fields, "alpn") { tls.alpn = alpn }
        return tls
    }

    /// A path relative to the config file, made absolute.
    private mutating func file(_ fields: YAMLNodeReader.Fields, _ key: String) -> String? {
        guard let node = fields.rawValue(key), let path = reader.string(node, named: key) else { return nil }
        guard !path.isEmpty else {
            reader.report("'\(key)' must not be empty", at: node)
            return nil
        }
        return ConfigurationLoader.resolve(path, relativeTo: reader.file)
    }
}
