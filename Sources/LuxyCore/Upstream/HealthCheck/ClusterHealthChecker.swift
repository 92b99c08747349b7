import Logging
import LuxyConfig
import NIOCore

/// Active checks of one cluster's endpoints, once per process: each endpoint is probed every
/// `interval` (plus jitter) and a change of verdict is published to every loop's cluster.
/// Transitions are rare, so they travel by `eventLoop.execute`; requests only read their
/// own loop's copy.
///
/// Loop-confined to the checker's loop (`HealthCheckHost`).
final class ClusterHealthChecker {
    enum State {
        case running
        case stopped
    }

    let cluster: ClusterConfiguration
    let check: HealthCheckConfiguration
    private(set) var records: [EndpointCheckRecord]
    private let eventLoop: EventLoop
    private let tls: [UpstreamTLS?]
    private let stats: ProxyStats
    private let logger: Logger
    private let publish: HealthVerdictPublisher
    private var state = State.running
    private var timers: [Scheduled<Void>?]

    init(cluster: ClusterConfiguration, check: HealthCheckConfiguration, records: [EndpointCheckRecord]?,
         eventLoop: EventLoop, tlsStores: TLSContextRegistry?, stats: ProxyStats, logger: Logger,
         publish: HealthVerdictPublisher) {
        self.cluster = cluster
        self.check = check
        self.records = records ?? Array(repeating: EndpointCheckRecord(), count: cluster.endpoints.count)
        self.eventLoop = eventLoop
        let store = tlsStores?.store(for: cluster)
        self.tls = cluster.endpoints.map { endpoint in
            store.flatMap { store in cluster.tls.map { UpstreamTLS(store: store, tls: $0, host: endpoint.host) } }
        }
        self.stats = stats
        self.logger = logger
        self.publish = publish
        self.timers = Array(repeating: nil, count: cluster.endpoints.count)
    }

    /// The first round goes out at once, spread over the jitter, so a dead endpoint is found
    /// within `unhealthy_threshold` intervals of start-up.
    func start() {
        for index in cluster.endpoints.indices { schedule(index, after: .milliseconds(Int64(jitter()))) }
    }

    func stop() {
        state = .stopped
        for timer in timers { timer?.cancel() }
        timers = timers.map { _ in nil }
    }

    private func jitter() -> Int {
        check.intervalJitterMilliseconds > 0 ? Int.random(in: 0...check.intervalJitterMilliseconds) : 0
    }

    private func schedule(_ index: Int, after delay: TimeAmount) {
        guard case .running = state else { return }
        timers[index] = eventLoop.assumeIsolated().scheduleTask(in: delay) { [weak self] in self?.probe(index) }
    }

    private func probe(_ index: Int) {
        guard case .running = state else { return }
        let probe = HealthCheckProbe(check: check, endpoint: cluster.endpoints[index], eventLoop: eventLoop)
        stats.increment("health_check_attempts")
        probe.run(tls: tls[index]) { [weak self] passed in
            self?.recordResult(of: index, passed: passed)
        }
    }

    private func recordResult(of index: Int, passed: Bool) {
        guard case .running = state else { return }
        if !passed { stats.increment("health_check_failures") }
        if let verdict = records[index].record(passed: passed, healthyThreshold: check.healthyThreshold,
                                                 unhealthyThreshold: check.unhealthyThreshold) {
            let endpoint = cluster.endpoints[index]
            switch verdict {
            case .failing:
                stats.increment("health_check_became_unhealthy")
                logger.warning("cluster '\(cluster.name)': endpoint \(endpoint) failed \(check.unhealthyThreshold) health checks, out of rotation")
            case .healthy:
                stats.increment("health_check_became_healthy")
                logger.info("cluster '\(cluster.name)': endpoint \(endpoint) passed \(check.healthyThreshold) health checks, back in rotation")
            }
            publish.publish(HealthVerdict(cluster: cluster.name, endpoints: cluster.endpoints, index: index,
                                          verdict: verdict))
        }
        schedule(index, after: .milliseconds(Int64(check.intervalMilliseconds + jitter())))
    }
}

@available(*, unavailable)
extension ClusterHealthChecker: Sendable {}
