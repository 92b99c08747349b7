import Foundation
import LuxyConfig
import NIOHTTP1

/// A listener's virtual hosts and routes, compiled once per generation. Matching order is
/// Envoy's: the most specific domain wins (exact, then longest `*.suffix`, then `*`), and
/// within a virtual host the first route that matches.
public struct Router {
    private struct CompiledRoute {
        var config: RouteConfiguration
        /// What requests matching it share.
        var target: RouteTarget
        var pathRegex: NSRegularExpression?
        var headerRegexes: [NSRegularExpression?]
    }

    private struct CompiledVirtualHost {
        var name: String
        var routes: [CompiledRoute]
    }

    private let listenerName: String
    private var exact: [String: Int] = [:]
    private var suffixes: [(suffix: String, index: Int)] = []
    private var catchAll: Int?
    private var virtualHosts: [CompiledVirtualHost] = []
    /// Lower-case names of the fields routing reads: `host`, and every header a route
    /// matches on. A stage changing one of them has the route chosen again.
    public private(set) var routingFieldNames: [String] = ["host"]

    public init(listener: ListenerConfiguration) throws {
        self.listenerName = listener.name
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
            for domain in vhost.domains.map({ $0.lowercased() }) {
                if domain == "*" {
                    if catchAll == nil { catchAll = index }
                } else if domain.hasPrefix("*") {
                    suffixes.append((String(domain.dropFirst()), index))
                } else if exact[domain] == nil {
                    exact[domain] = index
                }
            }
        }
        suffixes.sort { $0.suffix.count > $1.suffix.count }
    }

    /// nil when no virtual host or route matches (the caller answers 404).
    public func route(_ head: HTTPRequestHead) -> RouteMatch? {
        guard let vhostIndex = virtualHostIndex(for: head.headers.first(name: "host") ?? "") else { return nil }
        let vhost = virtualHosts[vhostIndex]
        let path = Self.path(of: head.uri)
        for route in vhost.routes where Self.matches(route, path: path, head: head) {
            return RouteMatch(target: route.target, clusterName: Self.pickCluster(route.config.action))
        }
        return nil
    }

    private func virtualHostIndex(for hostHeader: String) -> Int? {
        // Lowercased only when it has upper-case letters; bytes, not Characters, to find the port.
        var host = Substring(hostHeader.utf8.contains(where: { $0 >= 65 && $0 <= 90 }) ? hostHeader.lowercased() : hostHeader)
        if host.utf8.first == UInt8(ascii: "[") {
            if let end = host.utf8.firstIndex(of: UInt8(ascii: "]")) { host = host[...end] }
        } else if let colon = host.utf8.lastIndex(of: UInt8(ascii: ":")) {
            host = host[..<colon]
        }
        if !exact.isEmpty, let index = exact[String(host)] { return index }
        for entry in suffixes where host.utf8.count > entry.suffix.utf8.count && host.hasSuffix(entry.suffix) {
            return entry.index
        }
        return catchAll
    }

    static func path(of uri: String) -> Substring {
        // Bytes, not Characters: this runs on every request.
        let end = uri.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? uri.endIndex
        return uri[..<end]
    }

    private static func matches(_ route: CompiledRoute, path: Substring, head: HTTPRequestHead) -> Bool {
        let match = route.config.match
        switch match.path {
        case .prefix(let prefix):
            guard path.hasPrefix(prefix) else { return false }
        case .exact(let exact):
            guard path == exact else { return false }
        case .regex:
            guard let regex = route.pathRegex, regex.matches(String(path)) else { return false }
        }
        if !match.methods.isEmpty, !match.methods.contains(head.method.rawValue) { return false }
        for (header, regex) in zip(match.headers, route.headerRegexes) {
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

    private static func pickCluster(_ action: RouteAction) -> String? {
        switch action {
        case .cluster(let name):
            return name
        case .weightedClusters(let clusters):
            let total = clusters.reduce(0) { $0 + $1.weight }
            var pick = Int.random(in: 0..<max(total, 1))
            for cluster in clusters {
                if pick < cluster.weight { return cluster.name }
                pick -= cluster.weight
            }
            return clusters.last?.name
        case .directResponse, .echo:
            return nil
        }
    }
}

extension NSRegularExpression {
    fileprivate func matches(_ string: String) -> Bool {
        firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }
}
