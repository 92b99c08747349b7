import Logging
import LuxyConfig
import NIOCore

/// The process's active health checkers, all on one loop (the first): one checker per
/// cluster with `health_checks`, whatever the number of loops. A reload keeps a checker,
/// and what it knows, for a cluster whose endpoints and checks did not change; one whose
/// checks changed but endpoints did not starts from the old verdicts.
///
/// Loop-confined to `eventLoop`; `ProxyServer` reaches it by `execute`.
final class HealthCheckHost {
    private let eventLoop: EventLoop
    private let tlsStores: TLSContextRegistry?
    private let stats: ProxyStats
    private let logger: Logger
    private let publish: HealthVerdictPublisher
    private var checkers: [String: ClusterHealthChecker] = [:]

    init(eventLoop: EventLoop, tlsStores: TLSContextRegistry?, stats: ProxyStats, logger: Logger,
         publish: HealthVerdictPublisher) {
        self.eventLoop = eventLoop
        self.tlsStores = tlsStores
        self.stats = stats
        self.logger = logger
        self.publish = publish
    }

    /// Brings the checkers in line with `clusters` (the committed configuration's).
    func reconcile(_ clusters: [ClusterConfiguration]) {
        var wanted: [String: ClusterConfiguration] = [:]
        for cluster in clusters where !cluster.healthChecks.isEmpty { wanted[cluster.name] = cluster }
        for (name, checker) in checkers {
            let next = wanted[name]
            if let next, next.endpoints == checker.cluster.endpoints, next.healthChecks.first == checker.check,
               next.tls == checker.cluster.tls {
                continue
            }
            checker.stop()
            checkers[name] = nil
            let keepsEndpoints = next?.endpoints == checker.cluster.endpoints
            if keepsEndpoints, let next {
                startChecker(for: next, records: checker.records)
            } else if next == nil {
                // No more checks: what they took out of rotation comes back.
                for (index, record) in checker.records.enumerated() where record.verdict == .failing {
                    publish.publish(HealthVerdict(cluster: name, endpoints: checker.cluster.endpoints, index: index,
                                                  verdict: .healthy))
                }
            }
        }
        for (name, cluster) in wanted where checkers[name] == nil { startChecker(for: cluster, records: nil) }
    }

    func stopAll() {
        for checker in checkers.values { checker.stop() }
        checkers.removeAll()
    }

    private func startChecker(for cluster: ClusterConfiguration, records: [EndpointCheckRecord]?) {
        guard let check = cluster.healthChecks.first else { return }
        let checker = ClusterHealthChecker(cluster: cluster, check: check, records: records, eventLoop: eventLoop,
                                           tlsStores: tlsStores, stats: stats, logger: logger, publish: publish)
        checkers[cluster.name] = checker
        checker.start()
    }
}

@available(*, unavailable)
extension HealthCheckHost: Sendable {}
