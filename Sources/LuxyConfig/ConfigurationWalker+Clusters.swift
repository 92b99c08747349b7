import Yams

/// `clusters:`, the upstreams routes and tcp listeners send traffic to.
extension ConfigurationWalker {
    mutating func cluster(_ node: Node) -> ClusterConfiguration? {
        guard let fields = reader.fields(
            node, context: "cluster",
            allowed: ["name", "endpoints", "lb_policy", "connect_timeout", "request_timeout", "max_idle_connections",
                      "protocol", "tls", "circuit_breakers", "idle_timeout"],
            required: ["name", "endpoints"]) else { return nil }

        let name = reader.name(fields)
        if let name, let nameNode = fields.rawValue("name") {
            sources.clusterNames.append(.init(name: name, location: reader.location(of: nameNode)))
        }
        let endpoints = self.endpoints(fields)
        var cluster = ClusterConfiguration(name: name ?? "", endpoints: endpoints, location: fields.location)
        if let policy = reader.oneOf(fields, "lb_policy", [LoadBalancingPolicy.roundRobin, .random]) {
            cluster.loadBalancing = policy
        }
        if let value = reader.duration(fields, "connect_timeout") { cluster.connectTimeoutMilliseconds = value }
        if let value = reader.duration(fields, "request_timeout") { cluster.requestTimeoutMilliseconds = value }
        if let node = fields.rawValue("max_idle_connections"), let value = reader.int(node, named: "max_idle_connections") {
            if value >= 0 {
                cluster.maxIdleConnections = value
            } else {
                reader.report("'max_idle_connections' must not be negative", at: node)
            }
        }
        if let proto = reader.oneOf(fields, "protocol", [UpstreamProtocol.http1, .http2]) {
            cluster.upstreamProtocol = proto
        }
        if let node = fields["tls"] { cluster.tls = clusterTLS(node) }
        if let node = fields["circuit_breakers"] { cluster.circuitBreakers = circuitBreakers(node) }
        if let value = reader.positiveDuration(fields, "idle_timeout") { cluster.idleTimeoutMilliseconds = value }
        // An h2 cluster over TLS has to ask for h2 by ALPN; say so unless the file does.
        if cluster.upstreamProtocol == .http2, var tls = cluster.tls, tls.alpn.isEmpty {
            tls.alpn = ["h2"]
            cluster.tls = tls
        }
        return name == nil ? nil : cluster
    }

    private mutating func endpoints(_ fields: YAMLNodeReader.Fields) -> [ClusterConfiguration.Endpoint] {
        let items = reader.list(fields, "endpoints")
        if let node = fields["endpoints"], case .sequence = node, items.isEmpty {
            reader.report("'endpoints' must have at least one entry", at: node)
        }
        // Port 0 means "any free port" for a listener, but nothing can be dialled there.
        return items.compactMap { item in
            reader.address(item, named: "endpoint", minimumPort: 1).map { .init(host: $0.host, port: $0.port) }
        }
    }
}
