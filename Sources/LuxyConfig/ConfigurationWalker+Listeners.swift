import Yams

/// `listeners:` and their virtual hosts; routes live in ConfigurationWalker+Routes.
extension ConfigurationWalker {
    mutating func listener(_ node: Node) -> ListenerConfiguration? {
        guard let fields = reader.fields(
            node, context: "listener",
            allowed: ["name", "direction", "protocol", "address", "virtual_hosts", "cluster", "sni_routes", "tls", "http2",
                      "xff_num_trusted_hops", "original_destination"],
            required: ["name", "direction", "protocol", "address"]) else { return nil }

        let name = reader.name(fields)
        if let name, let nameNode = fields.rawValue("name") {
            sources.listenerNames.append(.init(name: name, location: reader.location(of: nameNode)))
        }
        let owner = "listener '\(name ?? "?")'"
        let direction = reader.oneOf(fields, "direction", [TrafficDirection.inbound, .outbound])
        let proto = reader.oneOf(fields, "protocol", [ListenerProtocol.http, .tcp])
        var address: (host: String, port: Int)?
        if let addressNode = fields.rawValue("address") {
            address = reader.address(addressNode, named: "address")
            if let address {
                sources.addresses.append(.init(owner: owner, host: address.host, port: address.port,
                                               location: reader.location(of: addressNode)))
            }
        }

        var virtualHosts: [VirtualHostConfiguration] = []
        var tcpCluster: String?
        var tcpRoutes: [TCPRouteConfiguration] = []
        switch proto {
        case .http:
            if let key = fields.keyNode("cluster") ?? fields.keyNode("sni_routes") {
                reader.report("'\(key.string ?? "cluster")' is only for tcp listeners; http listeners route with 'virtual_hosts'",
                              at: key)
            }
            listenerChain = direction.map { ChainName(direction: $0, protocol: .http) }
            virtualHosts = self.virtualHosts(fields)
            listenerChain = nil
        case .tcp:
            if let key = fields.keyNode("virtual_hosts") {
                reader.report("'virtual_hosts' is only for http listeners; tcp listeners name a 'cluster'", at: key)
            }
            tcpRoutes = reader.list(fields, "sni_routes").compactMap { tcpRoute($0, owner: owner) }
            tcpCluster = self.tcpCluster(fields, owner: owner, required: tcpRoutes.isEmpty)
        case nil:
            break
        }

        guard let name, let direction, let proto, let address else { return nil }
        var listener = ListenerConfiguration(name: name, direction: direction, proto: proto, host: address.host,
                                             port: address.port, virtualHosts: virtualHosts,
                                             location: fields.location)
        listener.tcpCluster = tcpCluster
        listener.tcpRoutes = tcpRoutes
        if let value = reader.bool(fields, "original_destination") { listener.originalDestination = value }
        // A host only for redirected connections on a listener that never reads where they went
        // could never be chosen: surely a forgotten `original_destination: true`.
        if !listener.originalDestination, virtualHosts.contains(where: { $0.originalDestination != nil }),
           let node = fields.keyNode("virtual_hosts") {
            reader.report("virtual hosts matching 'original_destination' need 'original_destination: true' on listener '\(name)'",
                          at: node)
        }
        if let node = fields["tls"] { listener.tls = listenerTLS(node, proto: proto) }
        if let node = fields["http2"] {
            if proto == .tcp { reader.report("'http2' is only for http listeners", at: fields.keyNode("http2") ?? node) }
            listener.http2 = http2Settings(node)
        }
        if let node = fields.rawValue("xff_num_trusted_hops") {
            if proto == .tcp {
                reader.report("'xff_num_trusted_hops' is only for http listeners", at: fields.keyNode("xff_num_trusted_hops") ?? node)
            } else if let hops = reader.nonNegativeInt(fields, "xff_num_trusted_hops") {
                listener.xffNumTrustedHops = hops
            }
        }
        // Offering h2 by ALPN on a listener that does not speak it would strand the client.
        if !listener.http2.enabled, var tls = listener.tls, tls.alpn.contains("h2"),
           fields["tls"].flatMap({ node -> Bool? in
               guard case .mapping(let mapping) = node else { return nil }
               return mapping.keys.contains { $0.string == "alpn" }
           }) != true {
            tls.alpn.removeAll { $0 == "h2" }
            listener.tls = tls
        }
        return listener
    }

    /// An http listener without a virtual host could only ever answer 404, which is surely a mistake.
    private mutating func virtualHosts(_ fields: YAMLNodeReader.Fields) -> [VirtualHostConfiguration] {
        guard let node = fields["virtual_hosts"] else {
            reader.report("missing required key 'virtual_hosts' in http listener", at: fields.location)
            return []
        }
        let items = reader.list(fields, "virtual_hosts")
        if case .sequence = node, items.isEmpty {
            reader.report("'virtual_hosts' must have at least one entry", at: node)
        }
        return items.enumerated().compactMap { virtualHost($0.element, index: $0.offset) }
    }

    /// Required unless SNI routes are given; with them it catches what no route matched.
    private mutating func tcpCluster(_ fields: YAMLNodeReader.Fields, owner: String, required: Bool) -> String? {
        guard let node = fields.rawValue("cluster") else {
            if required { reader.report("missing required key 'cluster' in tcp listener", at: fields.location) }
            return nil
        }
        guard let cluster = reader.string(node, named: "cluster") else { return nil }
        sources.clusterReferences.append(.init(owner: owner, cluster: cluster, location: reader.location(of: node)))
        return cluster
    }

    private mutating func tcpRoute(_ node: Node, owner: String) -> TCPRouteConfiguration? {
        guard let fields = reader.fields(node, context: "sni route", allowed: ["server_names", "cluster"],
                                         required: ["server_names", "cluster"]),
              let names = reader.stringList(fields, "server_names"),
              let clusterNode = fields.rawValue("cluster"), let cluster = reader.string(clusterNode, named: "cluster")
        else { return nil }
        if names.isEmpty, let node = fields["server_names"] {
            reader.report("'server_names' must have at least one entry", at: node)
        }
        for name in names where !Self.isValidDomain(name) {
            reader.report("invalid server name '\(name)'; use example.com, *.example.com or *", at: fields["server_names"] ?? node)
        }
        sources.clusterReferences.append(.init(owner: owner, cluster: cluster, location: reader.location(of: clusterNode)))
        return TCPRouteConfiguration(serverNames: names.map { $0.lowercased() }, cluster: cluster)
    }

    private mutating func virtualHost(_ node: Node, index: Int) -> VirtualHostConfiguration? {
        guard let fields = reader.fields(node, context: "virtual host",
                                         allowed: ["name", "domains", "routes", "per_stage",
                                                   "original_destination", "original_destination_port"]) else {
            return nil
        }
        let name = reader.name(fields) ?? "vh\(index)"
        var domains = ["*"]
        if let listed = reader.stringList(fields, "domains") {
            if listed.isEmpty, let node = fields["domains"] {
                reader.report("'domains' must have at least one entry", at: node)
            } else {
                domains = listed
                for domain in listed where !Self.isValidDomain(domain) {
                    reader.report("invalid domain '\(domain)'; use example.com, *.example.com or *",
                                  at: fields["domains"] ?? node)
                }
            }
        }
        let routes = reader.list(fields, "routes").enumerated().compactMap {
            route($0.element, virtualHost: name, index: $0.offset)
        }
        var virtualHost = VirtualHostConfiguration(name: name, domains: domains, routes: routes)
        virtualHost.stageOverrides = stageOverrides(fields, owner: "virtual host '\(name)'")
        virtualHost.originalDestination = originalDestinationMatch(fields)
        return virtualHost
    }

    /// A wildcard only as the whole pattern or as a leading `*.`, the two forms the router matches.
    static func isValidDomain(_ domain: String) -> Bool {
        if domain == "*" { return true }
        let rest = domain.hasPrefix("*.") ? domain.dropFirst(2) : Substring(domain)
        return !rest.isEmpty && !rest.contains("*")
    }

    /// `original_destination_port: 8080` or `original_destination: 10.0.0.5:8080` on a
    /// virtual host (one of the two).
    private mutating func originalDestinationMatch(_ fields: YAMLNodeReader.Fields) -> OriginalDestinationMatch? {
        if let node = fields.rawValue("original_destination") {
            if let key = fields.keyNode("original_destination_port") {
                reader.report("give either 'original_destination' or 'original_destination_port', not both", at: key)
            }
            guard let address = reader.address(node, named: "original_destination", minimumPort: 1) else { return nil }
            return OriginalDestinationMatch(host: address.host, port: address.port)
        }
        guard let node = fields.rawValue("original_destination_port") else { return nil }
        guard let port = reader.positiveInt(fields, "original_destination_port") else { return nil }
        guard port <= 65_535 else {
            reader.report("'original_destination_port' must be between 1 and 65535, got \(port)", at: node)
            return nil
        }
        return OriginalDestinationMatch(host: nil, port: port)
    }
}
