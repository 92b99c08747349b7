import LuxyConfig
import NIOCore
import NIOHTTP1

/// What one event loop serves with in one generation: each HTTP listener's router and Lua
/// chain (`ListenerServing`), the tcp chains, the clusters it uses (whose pools outlive it
/// when the next generation keeps them), and the runtime its chains run on.
///
/// HTTP exchanges keep the generation they started on; once a newer one is installed (or
/// this one is discarded by a failed reload) and the last such exchange ends, this one is
/// closed: its clusters let go of their pools and it lets go of its stage runtime, which
/// closes in turn once no TCP session still runs on it. Long-lived connections never keep a
/// generation: a WebSocket tunnel holds only its two channels, a TCP session only its stage
/// runtime once it is connected.
///
/// Only touched on its loop.
public final class LoopGeneration {
    private enum Lifecycle {
        /// Pending or current: new exchanges may start on it.
        case serving
        /// Replaced or discarded: it closes when its last exchange ends.
        case retired
        case closed
    }

    public let number: Int
    /// Unique on its loop, unlike `number`, which a failed reload leaves to the next one.
    let build: Int
    public let configuration: LuxyConfiguration
    /// The listeners by name, looked up on every request and connection.
    let listenersByName: [String: ListenerConfiguration]
    let tcpChains: [ChainName: TCPStageChain]
    let services: UpstreamServices
    /// Outlives the generation while TCP sessions begun on it are open.
    let stageRuntime: StageRuntime
    /// The HTTP listeners with their routers and chains, by listener name.
    private(set) var servings: [String: ListenerServing] = [:]
    private var activeExchanges = 0
    private var lifecycle = Lifecycle.serving
    /// The stage layer's hooks for its work outside requests (`LoopChains.onCommit`/`onRetire`).
    private let onCommit: ((GenerationSideCalls) -> Void)?
    private var onRetire: (() -> Void)?

    init(number: Int, configuration: LuxyConfiguration, chains: LoopChains, loop: LoopContext) throws {
        self.number = number
        self.build = loop.nextGenerationBuild()
        self.configuration = configuration
        // Compiled before anything else is set up, so a bad route pattern fails the build.
        var routers: [String: Router] = [:]
        for listener in configuration.listeners where listener.proto == .http {
            routers[listener.name] = try Router(listener: listener)
        }
        self.listenersByName = Dictionary(configuration.listeners.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.tcpChains = chains.tcpChains
        self.services = UpstreamServices(clusters: configuration.clusters, registry: loop.upstreamClusters,
                                         eventLoop: loop.eventLoop, stats: loop.stats,
                                         ownAddresses: ProxyOwnAddresses(
                                             configuration: configuration,
                                             interfaceAddresses: ProxyOwnAddresses.readInterfaceAddresses()))
        services.maxCallResponseBytes = configuration.limits.maxBufferedBodyBytes
        self.stageRuntime = StageRuntime(loop: loop, onClose: chains.onClose)
        self.onCommit = chains.onCommit
        self.onRetire = chains.onRetire
        for listener in configuration.listeners where listener.proto == .http {
            guard let router = routers[listener.name] else { continue }
            servings[listener.name] = ListenerServing(generation: self, listener: listener, router: router,
                                                      chain: chains.chains[listener.chain])
        }
        loop.track(self)
    }

    /// A side call through this generation's clusters from outside a request (a TCP session,
    /// a Lua timer): the generation stays open until it ends.
    func sideCall(cluster: String, head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount,
                  completion: @escaping (HTTPResponseHead, ByteBuffer) -> Void) {
        exchangeStarted()
        services.call(cluster: cluster, head: head, body: body, timeout: timeout) { head, body in
            self.exchangeEnded()
            completion(head, body)
        }
    }

    /// It became the generation new requests start on, on its loop.
    func committed() {
        onCommit?(GenerationSideCalls(generation: self))
    }

    var isClosed: Bool {
        if case .closed = lifecycle { return true }
        return false
    }

    /// An HTTP exchange, a TCP session still connecting, or a side call of a TCP session
    /// uses the generation's chains and clusters.
    func exchangeStarted() {
        activeExchanges += 1
    }

    func exchangeEnded() {
        activeExchanges -= 1
        if case .retired = lifecycle, activeExchanges == 0 { close() }
    }

    /// A newer generation took over on this loop, or a failed reload dropped this one.
    /// Whatever already runs on it finishes first: a listener that the reload bound may
    /// have accepted a request on it before the reload failed.
    func retire() {
        guard case .serving = lifecycle else { return }
        lifecycle = .retired
        let retired = onRetire
        onRetire = nil
        retired?()
        if activeExchanges == 0 { close() }
    }

    private func close() {
        guard !isClosed else { return }
        lifecycle = .closed
        services.close()
        stageRuntime.release()
    }
}

@available(*, unavailable)
extension LoopGeneration: Sendable {}
