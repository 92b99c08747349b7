import Logging
import LuxyConfig
import NIOCore

/// The upstream clusters of one event loop, shared by the generations that use them, so a
/// reload that leaves a cluster's settings alone keeps its pools and their warm connections
/// (TLS and HTTP/2 included): a plugin edit drops nothing. A cluster whose settings changed
/// gets new pools; the old ones close once the last generation using them is gone, as do
/// those of a cluster no longer configured.
///
/// Keyed by cluster name; settings are compared without their place in the YAML. Each
/// generation counts as one user of each of its clusters. Loop-confined, no lock.
final class UpstreamClusterRegistry {
    private let eventLoop: EventLoop
    private let tlsStores: TLSContextRegistry?
    private let stats: ProxyStats
    private let logger: Logger
    private let shared: LoopShared
    private(set) var current: [String: UpstreamCluster] = [:]

    /// `shared`: the loop's, which its upstream connections share with its client ones.
    init(eventLoop: EventLoop, tlsStores: TLSContextRegistry?, stats: ProxyStats = ProxyStats(),
         logger: Logger = Logger(label: "luxy"), shared: LoopShared) {
        self.eventLoop = eventLoop
        self.shared = shared
        self.tlsStores = tlsStores
        self.stats = stats
        self.logger = logger
    }

    /// The cluster for `config`, with one more user.
    func acquire(_ config: ClusterConfiguration) -> UpstreamCluster {
        if let existing = current[config.name], existing.config.hasSameSettings(as: config) {
            existing.users += 1
            return existing
        }
        // A cluster whose settings changed stays with the generations using it until they end.
        let cluster = UpstreamCluster(config: config, eventLoop: eventLoop, tlsStores: tlsStores, stats: stats,
                                      logger: logger, shared: shared)
        // Same endpoints, other settings (a new lb_policy, say): what is known of their health
        // (active verdicts, ejections in force) carries over.
        if let previous = current[config.name] { cluster.inheritHealth(from: previous) }
        cluster.users = 1
        current[config.name] = cluster
        return cluster
    }

    /// A generation using `cluster` is gone; the last one closes its pools.
    func release(_ cluster: UpstreamCluster) {
        cluster.users -= 1
        guard cluster.users == 0 else { return }
        cluster.close()
        if current[cluster.config.name] === cluster { current[cluster.config.name] = nil }
    }

    /// The active checker's verdict on endpoint `index` of cluster `name` as it checks
    /// `endpoints`; a cluster configured with other endpoints since is not its business.
    func applyActiveHealth(cluster name: String, endpoints: [ClusterConfiguration.Endpoint], index: Int,
                           verdict: UpstreamEndpointHealth.ActiveHealth) {
        guard let cluster = current[name], cluster.config.endpoints == endpoints else { return }
        cluster.setActiveHealth(of: index, to: verdict)
    }
}

@available(*, unavailable)
extension UpstreamClusterRegistry: Sendable {}

extension ClusterConfiguration {
    /// Equal but for where it was written: moving a cluster in the YAML changes nothing.
    func hasSameSettings(as other: ClusterConfiguration) -> Bool {
        var relocated = self
        relocated.location = other.location
        return relocated == other
    }
}
