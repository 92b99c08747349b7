import Yams

/// `clusters:`, the upstreams routes and tcp listeners send traffic to.
extension ConfigurationWalker {
    mutating func cluster(_ node: Node) -> ClusterConfiguration? {
        guard let fields = reader.fields(
            node, context: "cluster",
            allowed: ["name", "endpoints", "lb_policy", "connect_timeout", "request_timeout", "max_idle_connections",
                      "protocol", "tls", "circuit_breakers", "idle_timeout", "outlier_detection", "health_checks",
                      "healthy_panic_threshold", "hash_policy", "maglev", "type"],
            required: ["name"]) else { return nil }

        let name = reader.name(fields)
        if let name, let nameNode = fields.rawValue("name") {
            sources.clusterNames.append(.init(name: name, location: reader.location(of: nameNode)))
        }
        let kind = reader.oneOf(fields, "type", [ClusterKind.static, .originalDestination]) ?? .static
        let endpoints = clusterEndpoints(fields, kind: kind)
        var cluster = ClusterConfiguration(name: name ?? "", endpoints: endpoints, location: fields.location)
        cluster.kind = kind
        if let policy = reader.oneOf(fields, "lb_policy", [LoadBalancingPolicy.roundRobin, .random, .leastRequest, .ringHash,
                                                             .maglev]) {
            cluster.loadBalancing = policy
        }
        if let value = reader.duration(fields, "connect_timeout") { cluster.connectTimeoutMilliseconds = value }
        if let value = reader.duration(fields, "request_timeout") { cluster.requestTimeoutMilliseconds = value }
        if let value = reader.nonNegativeInt(fields, "max_idle_connections") { cluster.maxIdleConnections = value }
        if let proto = reader.oneOf(fields, "protocol", [UpstreamProtocol.http1, .http2]) {
            cluster.upstreamProtocol = proto
        }
        if let node = fields["tls"] { cluster.tls = clusterTLS(node) }
        if let node = fields["circuit_breakers"] { cluster.circuitBreakers = circuitBreakers(node) }
        if let value = reader.positiveDuration(fields, "idle_timeout") { cluster.idleTimeoutMilliseconds = value }
        if let node = fields["outlier_detection"], let outlier = outlierDetection(node) {
            cluster.outlierDetection = outlier
        }
        if fields["health_checks"] != nil {
            let entries = reader.list(fields, "health_checks")
            if entries.count > 1 {
                reader.report("only one health check per cluster is supported", at: entries[1])
            }
            cluster.healthChecks = entries.prefix(1).compactMap { healthCheck($0) }
        }
        if let value = percent(fields, "healthy_panic_threshold") { cluster.healthyPanicThreshold = value }
        if fields["hash_policy"] != nil {
            cluster.hashPolicy = reader.list(fields, "hash_policy").compactMap { hashPolicy($0) }
            if !cluster.loadBalancing.isHashBased, let node = fields["hash_policy"] {
                reader.report("'hash_policy' needs 'lb_policy: ring_hash' or 'maglev'", at: node)
            }
        }
        if let node = fields["maglev"] {
            if let size = maglevTableSize(node) { cluster.maglevTableSize = size }
            if cluster.loadBalancing != .maglev { reader.report("'maglev' needs 'lb_policy: maglev'", at: node) }
        }
        // An h2 cluster over TLS has to ask for h2 by ALPN; say so unless the file does.
        if cluster.upstreamProtocol == .http2, var tls = cluster.tls, tls.alpn.isEmpty {
            tls.alpn = ["h2"]
            cluster.tls = tls
        }
        return name == nil ? nil : cluster
    }

    /// Required for a static cluster; an `original_destination` one takes each connection's
    /// own destination and may list none.
    private mutating func clusterEndpoints(_ fields: YAMLNodeReader.Fields, kind: ClusterKind)
        -> [ClusterConfiguration.Endpoint]
    {
        switch kind {
        case .static:
            if fields["endpoints"] == nil {
                reader.report("missing required key 'endpoints' in cluster", at: fields.location)
            }
            return endpoints(fields)
        case .originalDestination:
            if let node = fields.keyNode("endpoints") {
                reader.report("'endpoints' is not for a cluster of type original_destination: each connection goes to its original destination",
                              at: node)
            }
            return []
        }
    }
}
