import LuxyConfig
import NIOCore

/// What one event loop serves with in one generation: each HTTP listener's router and Lua
/// chain (`ListenerServing`), the tcp chains, and the clusters it uses (whose pools outlive it
/// when the next generation keeps them). Requests keep the generation they started on; once
/// a newer one is installed and the last such request ends, this one is closed on its loop.
public final class LoopGeneration {
    public let number: Int
    public let configuration: LuxyConfiguration
    /// The listeners by name, looked up on every request and connection.
    let listenersByName: [String: ListenerConfiguration]
    let tcpChains: [ChainName: TCPStageChain]
    let services: UpstreamServices
    /// The HTTP listeners with their routers and chains, by listener name.
    private(set) var servings: [String: ListenerServing] = [:]
    private let onClose: (() -> Void)?
    private var activeExchanges = 0
    private var isRetired = false
    private(set) var isClosed = false

    init(number: Int, configuration: LuxyConfiguration, chains: [ChainName: HTTPStageChain],
         eventLoop: EventLoop, stats: ProxyStats, onClose: (() -> Void)?, upstreamClusters: UpstreamClusterRegistry,
         tcpChains: [ChainName: TCPStageChain] = [:]) throws {
        self.number = number
        self.configuration = configuration
        // Compiled before anything else is set up, so a bad route pattern fails the build.
        var routers: [String: Router] = [:]
        for listener in configuration.listeners where listener.proto == .http {
            routers[listener.name] = try Router(listener: listener)
        }
        self.listenersByName = Dictionary(configuration.listeners.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.tcpChains = tcpChains
        self.services = UpstreamServices(clusters: configuration.clusters, registry: upstreamClusters,
                                         eventLoop: eventLoop, stats: stats)
        services.maxCallResponseBytes = configuration.limits.maxBufferedBodyBytes
        self.onClose = onClose
        for listener in configuration.listeners where listener.proto == .http {
            guard let router = routers[listener.name] else { continue }
            servings[listener.name] = ListenerServing(generation: self, listener: listener, router: router,
                                                      chain: chains[listener.chain])
        }
    }

    func exchangeStarted() {
        activeExchanges += 1
    }

    func exchangeEnded() {
        activeExchanges -= 1
        if isRetired && activeExchanges == 0 { close() }
    }

    /// A newer generation took over on this loop.
    func retire() {
        isRetired = true
        if activeExchanges == 0 { close() }
    }

    /// Dropped before it ever served (another loop failed to build its copy).
    func discard() {
        close()
    }

    private func close() {
        guard !isClosed else { return }
        isClosed = true
        services.close()
        onClose?()
    }
}

@available(*, unavailable)
extension LoopGeneration: Sendable {}
