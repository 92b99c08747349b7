import Logging
import LuxyConfig
import NIOCore

/// One cluster as seen from one event loop: its endpoints' pools, their health, and the
/// balancer's position. Shared by the generations whose configuration has it unchanged
/// (`UpstreamClusterRegistry`).
///
/// Loop-confined: every field is read and written on `eventLoop` only; the active health
/// checker's verdicts arrive by `eventLoop.execute`. No lock, no atomic.
final class UpstreamCluster {
    let config: ClusterConfiguration
    /// Requests, pending requests, retries and connections against `circuit_breakers`.
    let breaker: ClusterCircuitBreaker
    let eventLoop: EventLoop
    let stats: ProxyStats
    let logger: Logger
    /// Generations using this cluster on its loop; the pools close when the last one goes.
    var users = 0
    /// Per endpoint: a pool of HTTP/1.1 connections, or one multiplexed HTTP/2 connection.
    let pools: [any UpstreamConnectionProvider]
    /// Per endpoint, same order as `pools`.
    var health: [UpstreamEndpointHealth]
    /// Endpoints out of rotation (failing active checks or ejected): while 0, picking skips
    /// every health test.
    var unavailableCount = 0
    var ejectedCount = 0
    /// When each ejection ends; cancelled when the cluster closes.
    var ejectionTimers: [Int: Scheduled<Void>] = [:]
    /// Success-rate outlier detection, when it can ever compare (enough endpoints, enforced).
    let successRateRule: SuccessRateOutlierRule?
    /// Failure-percentage outlier detection, when enforced.
    let failurePercentageRule: FailurePercentageOutlierRule?
    /// The end of the current outlier-detection interval, when a rule needs it; one per
    /// cluster and loop, never per request.
    var outlierIntervalTimer: Scheduled<Void>?
    /// `ring_hash` only.
    let ring: ConsistentHashRing?
    /// `maglev` only.
    let maglev: MaglevTable?
    /// Whether the endpoints' weights differ (round robin and random then weigh them).
    let isWeighted: Bool
    let totalWeight: Int
    /// Round robin's position; with weights, nginx's smooth weighted round robin's state.
    var next = 0
    var currentWeights: [Int]
    /// `random`'s and `least_request`'s draws, without a system call each.
    var random = LoadBalancerRandom()
    let tlsStore: TLSContextStore?
    /// An `original_destination` cluster's pools, by destination (`ip:port`), made as
    /// connections ask for them (`pick(originalDestination:)`).
    var destinationPools: [String: any UpstreamConnectionProvider] = [:]

    /// The loop's head buffers and clock, for the cluster's HTTP/1.1 connections.
    let shared: LoopShared

    init(config: ClusterConfiguration, eventLoop: EventLoop, tlsStores: TLSContextRegistry? = nil,
         stats: ProxyStats = ProxyStats(), logger: Logger = Logger(label: "luxy"),
         shared: LoopShared, activeHealth: [UpstreamEndpointHealth.ActiveHealth]? = nil) {
        self.config = config
        let breaker = ClusterCircuitBreaker(limits: config.circuitBreakers)
        self.breaker = breaker
        self.eventLoop = eventLoop
        self.stats = stats
        self.logger = logger
        self.shared = shared
        let tlsStore = tlsStores?.store(for: config)
        self.tlsStore = tlsStore
        self.pools = config.endpoints.map { endpoint in
            Self.makePool(for: endpoint, config: config, eventLoop: eventLoop, tlsStore: tlsStore, breaker: breaker,
                          stats: stats, shared: shared)
        }
        self.health = Array(repeating: UpstreamEndpointHealth(), count: config.endpoints.count)
        self.ring = config.loadBalancing == .ringHash ? ConsistentHashRing(endpoints: config.endpoints) : nil
        self.maglev = config.loadBalancing == .maglev
            ? MaglevTable(endpoints: config.endpoints, tableSize: config.maglevTableSize) : nil
        self.totalWeight = config.endpoints.reduce(0) { $0 + $1.weight }
        self.isWeighted = Set(config.endpoints.map(\.weight)).count > 1
        self.currentWeights = Array(repeating: 0, count: config.endpoints.count)
        self.successRateRule = Self.successRateRule(for: config)
        self.failurePercentageRule = Self.failurePercentageRule(for: config)
        if let activeHealth, activeHealth.count == health.count {
            for (index, verdict) in activeHealth.enumerated() where verdict == .failing {
                health[index].active = .failing
                unavailableCount += 1
            }
        }
        scheduleOutlierInterval()
    }

    /// One endpoint's connections: a pool of HTTP/1.1 connections, or one HTTP/2 connection.
    static func makePool(for endpoint: ClusterConfiguration.Endpoint, config: ClusterConfiguration,
                         eventLoop: EventLoop, tlsStore: TLSContextStore?, breaker: ClusterCircuitBreaker,
                         stats: ProxyStats, shared: LoopShared) -> any UpstreamConnectionProvider {
        let tls = tlsStore.flatMap { store in
            config.tls.map { UpstreamTLS(store: store, tls: $0, host: endpoint.host) }
        }
        let connectTimeout = TimeAmount.milliseconds(Int64(config.connectTimeoutMilliseconds))
        switch config.upstreamProtocol {
        case .http1:
            return UpstreamPool(endpoint: endpoint, eventLoop: eventLoop, connectTimeout: connectTimeout,
                                maxIdle: config.maxIdleConnections, tls: tls, breaker: breaker,
                                idleTimeout: .milliseconds(Int64(config.idleTimeoutMilliseconds)), stats: stats,
                                shared: shared)
        case .http2:
            return HTTP2UpstreamPool(endpoint: endpoint, eventLoop: eventLoop, connectTimeout: connectTimeout,
                                     tls: tls)
        }
    }

    /// TLS origination to `endpoint` when the cluster has `tls:`: for connections made outside
    /// the pools (tcp listeners).
    func tls(for endpoint: ClusterConfiguration.Endpoint) -> UpstreamTLS? {
        guard let tlsStore, let tls = config.tls else { return nil }
        return UpstreamTLS(store: tlsStore, tls: tls, host: endpoint.host)
    }

    /// Idle connections close; connections still carrying a request finish it first.
    func close() {
        for pool in pools { pool.close() }
        for pool in destinationPools.values { pool.close() }
        destinationPools.removeAll()
        for timer in ejectionTimers.values { timer.cancel() }
        ejectionTimers.removeAll()
        outlierIntervalTimer?.cancel()
        outlierIntervalTimer = nil
    }

    var requestTimeout: TimeAmount { .milliseconds(Int64(config.requestTimeoutMilliseconds)) }
}

@available(*, unavailable)
extension UpstreamCluster: Sendable {}
