import LuxyConfig
import NIOCore

/// One cluster as seen from one event loop: its endpoints' pools and the balancer's position.
final class UpstreamCluster {
    let config: ClusterConfiguration
    let pools: [UpstreamPool]
    private var next = 0

    init(config: ClusterConfiguration, eventLoop: EventLoop) {
        self.config = config
        self.pools = config.endpoints.map {
            UpstreamPool(endpoint: $0, eventLoop: eventLoop,
                         connectTimeout: .milliseconds(Int64(config.connectTimeoutMilliseconds)),
                         maxIdle: config.maxIdleConnections)
        }
    }

    var requestTimeout: TimeAmount { .milliseconds(Int64(config.requestTimeoutMilliseconds)) }

    func pickPool() -> UpstreamPool? {
        guard !pools.isEmpty else { return nil }
        switch config.loadBalancing {
        case .roundRobin:
            next = (next + 1) % pools.count
            return pools[next]
        case .random:
            return pools.randomElement()
        }
    }
}

@available(*, unavailable)
extension UpstreamCluster: Sendable {}
