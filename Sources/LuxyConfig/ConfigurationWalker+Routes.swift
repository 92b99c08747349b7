import Foundation
import Yams

/// A route: its match, its one action, and the cluster names it refers to.
extension ConfigurationWalker {
    static let actionKeys = ["cluster", "weighted_clusters", "direct_response", "echo"]

    mutating func route(_ node: Node, virtualHost: String, index: Int) -> RouteConfiguration? {
        guard let fields = reader.fields(
            node, context: "route",
            allowed: ["name", "match", "service", "metadata", "upgrades", "per_stage", "timeout", "retry_policy",
                      "per_request_buffer_limit_bytes",
                      "request_headers_to_add", "request_headers_to_remove",
                      "response_headers_to_add", "response_headers_to_remove"] + Self.actionKeys) else { return nil }
        let name = reader.name(fields) ?? "\(virtualHost)/\(index)"
        let match = fields["match"].map { routeMatch($0) } ?? RouteMatchConfiguration(path: .prefix("/"))
        let action = routeAction(fields, owner: "route '\(name)'")
        let service = reader.string(fields, "service")
        let metadata = fields["metadata"].map { reader.configValue($0) } ?? .map([])
        let upgrades = routeUpgrades(fields)
        guard let action else { return nil }
        var route = RouteConfiguration(name: name, match: match, action: action, service: service,
                                       metadata: metadata, location: fields.location)
        route.upgrades = upgrades
        route.stageOverrides = stageOverrides(fields, owner: "route '\(name)'")
        route.requestHeadersToAdd = headersToAdd(fields, "request_headers_to_add")
        route.requestHeadersToRemove = (reader.stringList(fields, "request_headers_to_remove") ?? []).map { $0.lowercased() }
        route.responseHeadersToAdd = headersToAdd(fields, "response_headers_to_add")
        route.responseHeadersToRemove = (reader.stringList(fields, "response_headers_to_remove") ?? []).map { $0.lowercased() }
        route.timeoutMilliseconds = reader.duration(fields, "timeout")
        if let node = fields["retry_policy"] { route.retryPolicy = retryPolicy(node) }
        if let value = reader.nonNegativeInt(fields, "per_request_buffer_limit_bytes") {
            route.perRequestBufferLimitBytes = value
        }
        return route
    }

    /// Protocols an upgrade may switch to on this route. Only WebSocket can be tunnelled.
    private mutating func routeUpgrades(_ fields: YAMLNodeReader.Fields) -> [String] {
        guard let node = fields["upgrades"], let names = reader.stringList(fields, "upgrades") else { return [] }
        let known = ["websocket"]
        var upgrades: [String] = []
        for name in names {
            let lowered = name.lowercased()
            guard known.contains(lowered) else {
                reader.report("'upgrades' can only list \(known.joined(separator: ", ")); '\(name)' is not supported",
                              at: node)
                continue
            }
            upgrades.append(lowered)
        }
        return upgrades
    }

    /// Keys of `fields` among `keys`, in the order they appear in the file.
    private func present(_ keys: [String], in fields: YAMLNodeReader.Fields) -> [(key: String, node: Node)] {
        keys.compactMap { key in fields.keyNode(key).map { (key, $0) } }.sorted {
            let lhs = reader.location(of: $0.node), rhs = reader.location(of: $1.node)
            return (lhs.line, lhs.column) < (rhs.line, rhs.column)
        }
    }

    private mutating func routeAction(_ fields: YAMLNodeReader.Fields, owner: String) -> RouteAction? {
        let actions = present(Self.actionKeys, in: fields)
        guard let first = actions.first else {
            reader.report("\(owner) needs one of cluster, weighted_clusters, direct_response or echo",
                          at: fields.location)
            return nil
        }
        for extra in actions.dropFirst() {
            reader.report("\(owner): '\(extra.key)' conflicts with '\(first.key)'; a route has exactly one action",
                          at: extra.node)
        }
        guard let node = fields.rawValue(first.key) else { return nil }
        switch first.key {
        case "cluster":
            guard let cluster = reader.string(node, named: "cluster") else { return nil }
            sources.clusterReferences.append(.init(owner: owner, cluster: cluster, location: reader.location(of: node)))
            return .cluster(cluster)
        case "weighted_clusters":
            return weightedClusters(fields, node: node, owner: owner)
        case "direct_response":
            return directResponse(node)
        default:
            guard let echo = reader.bool(fields, "echo") else { return nil }
            guard echo else {
                reader.report("'echo' can only be true; leave it out to use another action", at: node)
                return nil
            }
            return .echo
        }
    }

    private mutating func weightedClusters(_ fields: YAMLNodeReader.Fields, node: Node, owner: String) -> RouteAction? {
        let items = reader.list(fields, "weighted_clusters")
        if case .sequence = node, items.isEmpty {
            reader.report("'weighted_clusters' must have at least one entry", at: node)
        }
        var clusters: [RouteAction.WeightedCluster] = []
        for item in items {
            guard let entry = reader.fields(item, context: "weighted cluster", allowed: ["name", "weight"],
                                            required: ["name", "weight"]) else { continue }
            let name = reader.string(entry, "name")
            let weight = reader.positiveInt(entry, "weight")
            if let name, let nameNode = entry.rawValue("name") {
                sources.clusterReferences.append(.init(owner: owner, cluster: name,
                                                       location: reader.location(of: nameNode)))
            }
            if let name, let weight { clusters.append(.init(name: name, weight: weight)) }
        }
        return clusters.isEmpty ? nil : .weightedClusters(clusters)
    }

    private mutating func directResponse(_ node: Node) -> RouteAction? {
        guard let fields = reader.fields(node, context: "direct_response", allowed: ["status", "body", "content_type"],
                                         required: ["status"]) else { return nil }
        let body = reader.string(fields, "body") ?? ""
        let contentType = reader.string(fields, "content_type")
        guard let statusNode = fields.rawValue("status"), let status = reader.int(statusNode, named: "status") else {
            return nil
        }
        guard (200...599).contains(status) else {
            reader.report("'status' must be between 200 and 599, got \(status)", at: statusNode)
            return nil
        }
        return .directResponse(status: status, body: body, contentType: contentType)
    }

    private mutating func routeMatch(_ node: Node) -> RouteMatchConfiguration {
        var match = RouteMatchConfiguration(path: .prefix("/"))
        guard let fields = reader.fields(node, context: "route match",
                                         allowed: ["prefix", "path", "regex", "methods", "headers"]) else {
            return match
        }
        let paths = present(["prefix", "path", "regex"], in: fields)
        for extra in paths.dropFirst() {
            reader.report("'\(extra.key)' conflicts with '\(paths[0].key)'; a match has one of prefix, path or regex",
                          at: extra.node)
        }
        if let first = paths.first, let valueNode = fields.rawValue(first.key),
           let value = reader.string(valueNode, named: first.key) {
            switch first.key {
            case "prefix", "path":
                if value.hasPrefix("/") {
                    match.path = first.key == "prefix" ? .prefix(value) : .exact(value)
                } else {
                    reader.report("'\(first.key)' must start with '/'", at: valueNode)
                }
            default:
                if checkRegex(value, at: valueNode) { match.path = .regex(value) }
            }
        }
        match.methods = (reader.stringList(fields, "methods") ?? []).map { $0.uppercased() }
        match.headers = reader.list(fields, "headers").compactMap { headerMatch($0) }
        return match
    }

    private mutating func headerMatch(_ node: Node) -> RouteMatchConfiguration.Header? {
        guard let fields = reader.fields(node, context: "header match",
                                         allowed: ["name", "exact", "prefix", "regex", "present"],
                                         required: ["name"]) else { return nil }
        let name = reader.name(fields)
        let rules = present(["exact", "prefix", "regex", "present"], in: fields)
        guard let first = rules.first else {
            reader.report("header match needs one of exact, prefix, regex or present", at: fields.location)
            return nil
        }
        for extra in rules.dropFirst() {
            reader.report("'\(extra.key)' conflicts with '\(first.key)'; a header match has one rule", at: extra.node)
        }
        let rule: RouteMatchConfiguration.Header.Rule?
        switch first.key {
        case "present":
            rule = reader.bool(fields, "present").map { .present($0) }
        default:
            guard let valueNode = fields.rawValue(first.key),
                  let value = reader.string(valueNode, named: first.key) else { return nil }
            switch first.key {
            case "exact": rule = .exact(value)
            case "prefix": rule = .prefix(value)
            default: rule = checkRegex(value, at: valueNode) ? .regex(value) : nil
            }
        }
        guard let name, let rule else { return nil }
        // HTTP header names are case-insensitive; one spelling spares every matcher a lowercasing.
        return .init(name: name.lowercased(), rule: rule)
    }

    private mutating func checkRegex(_ pattern: String, at node: Node) -> Bool {
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return true
        } catch {
            reader.report("'regex' must be a valid regular expression, got '\(pattern)'", at: node)
            return false
        }
    }
}
