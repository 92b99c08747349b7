import Foundation
import LuxyConfig
import NIOCore
import NIOHTTP1

/// A listener's virtual hosts and routes, compiled once per generation. Matching order is
/// Envoy's: the most specific domain wins (exact, then longest `*.suffix`, then `*`), and
/// within a virtual host the first route that matches.
///
/// A class: a request reads the router of its listener's generation (`ListenerServing`)
/// through one reference, where a struct's fields were copied, retained and released on
/// every request (6 of the 700 reference-count operations of a request with no stage,
/// counted with a uprobe on `swift_retain`/`swift_release`). Immutable once built (every
/// field a `let`), so any loop may read it; each loop's generation builds its own anyway.
public final class Router: Sendable {
    /// A class, not a struct: the match loop then reads each route through one reference
    /// instead of copying (and retaining) all its fields, on every request.
    ///
    /// What matching reads is kept in fields of its own, and the cluster of a route to one
    /// cluster is taken out once: reading them through the route's configuration copied the
    /// match's arrays and strings (and retained and released them) on every request.
    private final class CompiledRoute: Sendable {
        let path: RouteMatchConfiguration.Path
        let methods: [String]
        let headers: [RouteMatchConfiguration.Header]
        let action: RouteAction
        /// The cluster of a route to one cluster; nil for a weighted pick or a local answer.
        let singleCluster: String?
        /// What requests matching it share.
        let target: RouteTarget
        let pathRegex: NSRegularExpression?
        let headerRegexes: [NSRegularExpression?]

        init(config: RouteConfiguration, target: RouteTarget, pathRegex: NSRegularExpression?,
             headerRegexes: [NSRegularExpression?]) {
            self.path = config.match.path
            self.methods = config.match.methods
            self.headers = config.match.headers
            self.action = config.action
            if case .cluster(let name) = config.action { singleCluster = name } else { singleCluster = nil }
            self.target = target
            self.pathRegex = pathRegex
            self.headerRegexes = headerRegexes
        }

        /// The cluster this request goes to; a weighted pick is made here, once per request.
        var clusterName: String? {
            if let singleCluster { return singleCluster }
            guard case .weightedClusters(let clusters) = action else { return nil }
            let total = clusters.reduce(0) { $0 + $1.weight }
            var pick = Int.random(in: 0..<max(total, 1))
            for cluster in clusters {
                if pick < cluster.weight { return cluster.name }
                pick -= cluster.weight
            }
            return clusters.last?.name
        }
    }

    private struct CompiledVirtualHost {
        var name: String
        var routes: [CompiledRoute]
    }

    /// Virtual hosts that serve connections originally sent to one destination, tried before
    /// the others (`original_destination_port` / `original_destination`).
    private struct DestinationHosts {
        var match: OriginalDestinationMatch
        var domains: VirtualHostDomains
    }

    private let listenerName: String
    /// The virtual hosts without a destination condition.
    private let anyDestination: VirtualHostDomains
    /// Address matches first, then port-only ones: the most specific destination wins, as
    /// with Envoy's filter chain match.
    private let byDestination: [DestinationHosts]
    private let virtualHosts: [CompiledVirtualHost]
    /// Lower-case names of the fields routing reads: `host`, and every header a route
    /// matches on. A stage changing one of them has the route chosen again.
    public let routingFieldNames: [String]

    public init(listener: ListenerConfiguration) throws {
        self.listenerName = listener.name
        var anyDestination = VirtualHostDomains()
        var byDestination: [DestinationHosts] = []
        var virtualHosts: [CompiledVirtualHost] = []
        var routingFieldNames = ["host"]
        var routeCount = 0
        for (index, vhost) in listener.virtualHosts.enumerated() {
            let routes = try vhost.routes.map { route -> CompiledRoute in
                defer { routeCount += 1 }
                var pathRegex: NSRegularExpression?
                if case .regex(let pattern) = route.match.path {
                    pathRegex = try NSRegularExpression(pattern: "^(?:\(pattern))$")
                }
                let headerRegexes = try route.match.headers.map { header -> NSRegularExpression? in
                    guard case .regex(let pattern) = header.rule else { return nil }
                    return try NSRegularExpression(pattern: "^(?:\(pattern))$")
                }
                let target = RouteTarget(
                    listenerName: listener.name, virtualHostName: vhost.name, route: route,
                    stageOverrides: vhost.stageOverrides.merging(route.stageOverrides) { $1 }, routeIndex: routeCount,
                    retryPolicy: route.retryPolicy.map { RetryPolicy($0, bufferLimitBytes: route.perRequestBufferLimitBytes) })
                return CompiledRoute(config: route, target: target, pathRegex: pathRegex, headerRegexes: headerRegexes)
            }
            virtualHosts.append(CompiledVirtualHost(name: vhost.name, routes: routes))
            for header in vhost.routes.flatMap(\.match.headers) where !routingFieldNames.contains(header.name.lowercased()) {
                routingFieldNames.append(header.name.lowercased())
            }
            if let match = vhost.originalDestination {
                if let group = byDestination.firstIndex(where: { $0.match == match }) {
                    byDestination[group].domains.add(domains: vhost.domains, index: index)
                } else {
                    var domains = VirtualHostDomains()
                    domains.add(domains: vhost.domains, index: index)
                    byDestination.append(DestinationHosts(match: match, domains: domains))
                }
            } else {
                anyDestination.add(domains: vhost.domains, index: index)
            }
        }
        // Stable: among equally specific conditions, the order of the file.
        let withAddress = byDestination.filter { $0.match.host != nil }
        self.byDestination = withAddress + byDestination.filter { $0.match.host == nil }
        self.anyDestination = anyDestination
        self.virtualHosts = virtualHosts
        self.routingFieldNames = routingFieldNames
    }

    /// nil when no virtual host or route matches (the caller answers 404).
    /// `originalDestination`: the connection's, on a listener that restores it; virtual hosts
    /// with a destination condition are only for it.
    public func route(_ head: HTTPRequestHead, originalDestination: SocketAddress? = nil) -> RouteMatch? {
        guard let vhostIndex = virtualHostIndex(for: head.headers.first(name: "host") ?? "",
                                                originalDestination: originalDestination) else { return nil }
        let path = Self.path(of: head.uri)
        for route in virtualHosts[vhostIndex].routes where Self.matches(route, path: path, head: head) {
            return RouteMatch(target: route.target, clusterName: route.clusterName)
        }
        return nil
    }

    private func virtualHostIndex(for hostHeader: String, originalDestination: SocketAddress?) -> Int? {
        // Lowercased only when it has upper-case letters; bytes, not Characters, to find the port.
        let hasUpperCase = hostHeader.withUTF8Bytes { $0.contains { $0 >= 65 && $0 <= 90 } }
        var host = Substring(hasUpperCase ? hostHeader.lowercased() : hostHeader)
        if host.utf8.first == UInt8(ascii: "[") {
            if let end = host.utf8.firstIndex(of: UInt8(ascii: "]")) { host = host[...end] }
        } else if let colon = host.utf8.lastIndex(of: UInt8(ascii: ":")) {
            host = host[..<colon]
        }
        if !byDestination.isEmpty, let destination = originalDestination, let port = destination.port {
            let address = destination.ipAddress
            for group in byDestination where group.match.matches(host: address, port: port) {
                if let index = group.domains.index(for: host) { return index }
            }
        }
        return anyDestination.index(for: host)
    }

    static func path(of uri: String) -> Substring {
        // Bytes, not Characters: this runs on every request.
        let length = uri.withUTF8Bytes { bytes in
            bytes.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
        }
        return uri[..<uri.utf8.index(uri.utf8.startIndex, offsetBy: length)]
    }

    private static func matches(_ route: CompiledRoute, path: Substring, head: HTTPRequestHead) -> Bool {
        switch route.path {
        case .prefix(let prefix):
            guard path.hasUTF8Prefix(prefix) else { return false }
        case .exact(let exact):
            guard path.utf8.count == exact.utf8.count, path.hasUTF8Prefix(exact) else { return false }
        case .regex:
            guard let regex = route.pathRegex, regex.matches(String(path)) else { return false }
        }
        if !route.methods.isEmpty, !route.methods.contains(head.method.rawValue) { return false }
        guard !route.headers.isEmpty else { return true }
        for (header, regex) in zip(route.headers, route.headerRegexes) {
            let values = head.headers[header.name]
            switch header.rule {
            case .present(let present):
                guard values.isEmpty != present else { return false }
            case .exact(let value):
                guard values.joined(separator: ",") == value else { return false }
            case .prefix(let prefix):
                guard values.joined(separator: ",").hasPrefix(prefix) else { return false }
            case .regex:
                guard let regex, regex.matches(values.joined(separator: ",")) else { return false }
            }
        }
        return true
    }
}

extension NSRegularExpression {
    fileprivate func matches(_ string: String) -> Bool {
        firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }
}
