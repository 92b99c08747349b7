import Logging
import LuxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix

/// Owns the listeners and the per-loop state, and installs configurations as generations.
/// Control plane only: requests never touch this actor, they run on their loop.
public actor ProxyServer {
    public enum ServerError: Error, CustomStringConvertible {
        case bindFailed(listener: String, address: String, reason: String)
        case unsupported(String)
        case shuttingDown

        public var description: String {
            switch self {
            case .shuttingDown: return "the proxy is shutting down"

            case let .bindFailed(listener, address, reason): return "listener '\(listener)': cannot bind \(address): \(reason)"
            case let .unsupported(what): return what
            }
        }
    }

    private let group: EventLoopGroup
    private let logger: Logger
    private let loops: [EventLoop]
    private let contexts: [ObjectIdentifier: NIOLoopBound<LoopContext>]
    private var listeners: [String: (config: ListenerConfiguration, channel: Channel)] = [:]
    /// The active health checkers, on the first loop (once per process, not per loop).
    private let healthChecks: NIOLoopBound<HealthCheckHost>
    /// Set by `shutdown`: a reload still in flight must not bind listeners again or commit.
    private var isShuttingDown = false
    /// Certificates of every `tls:` in use; they reload on file changes, outside generations.
    public nonisolated let tlsStores: TLSContextRegistry
    public private(set) var generation = 0
    public private(set) var configuration: LuxyConfiguration?
    /// For tests: runs after a reload bound its new listeners (given with their addresses) and
    /// before it commits; throwing fails the reload there, as a failed bind of a later
    /// listener would.
    private var listenersBoundHook: (@Sendable ([String: SocketAddress]) async throws -> Void)?

    func setListenersBoundHook(_ hook: (@Sendable ([String: SocketAddress]) async throws -> Void)?) {
        listenersBoundHook = hook
    }

    public init(group: EventLoopGroup, logger: Logger) async throws {
        self.group = group
        self.logger = logger
        let tlsStores = TLSContextRegistry(logger: logger)
        self.tlsStores = tlsStores
        var loops: [EventLoop] = []
        var contexts: [ObjectIdentifier: NIOLoopBound<LoopContext>] = [:]
        for loop in group.makeIterator() {
            loops.append(loop)
            contexts[ObjectIdentifier(loop)] = try await loop.submit {
                NIOLoopBound(LoopContext(eventLoop: loop, tlsStores: tlsStores, logger: logger), eventLoop: loop)
            }.get()
        }
        self.loops = loops
        self.contexts = contexts
        self.healthChecks = try await Self.makeHealthCheckHost(loops: loops, contexts: contexts, tlsStores: tlsStores,
                                                               logger: logger)
    }

    /// Verdicts go to every loop by `execute`: transitions are rare, and requests read only
    /// their own loop's copy, so there is no lock on the request path.
    private static func makeHealthCheckHost(loops: [EventLoop], contexts: [ObjectIdentifier: NIOLoopBound<LoopContext>],
                                            tlsStores: TLSContextRegistry, logger: Logger)
        async throws -> NIOLoopBound<HealthCheckHost>
    {
        let publisher = HealthVerdictPublisher { verdict in
            for loop in loops {
                let bound = contexts[ObjectIdentifier(loop)]!
                loop.execute {
                    bound.value.upstreamClusters.applyActiveHealth(cluster: verdict.cluster, endpoints: verdict.endpoints,
                                                                   index: verdict.index, verdict: verdict.verdict)
                }
            }
        }
        let home = loops[0]
        let context = contexts[ObjectIdentifier(home)]!
        return try await home.submit {
            NIOLoopBound(HealthCheckHost(eventLoop: home, tlsStores: tlsStores, stats: context.value.stats,
                                         logger: logger, publish: publisher), eventLoop: home)
        }.get()
    }

    /// Builds `configuration` as the next generation on every loop and switches to it, then
    /// brings the listeners in line. All or nothing: on any error the running generation stays.
    @discardableResult
    public func install(_ configuration: LuxyConfiguration, stages: StageChainFactory) async throws -> Int {
        guard !isShuttingDown else { throw ServerError.shuttingDown }
        let number = generation + 1
        let tlsStores = self.tlsStores
        do {
            try tlsStores.prepare(configuration)
            for loop in loops {
                let bound = contexts[ObjectIdentifier(loop)]!
                try await loop.submit {
                    let context = bound.value
                    let chains = try stages.makeChains(for: configuration, generation: number, on: loop,
                                                       stats: context.stats)
                    do {
                        context.pendingGeneration = try LoopGeneration(number: number, configuration: configuration,
                                                                       chains: chains, loop: context)
                    } catch {
                        // Nothing ran on these chains yet.
                        chains.onClose?()
                        throw error
                    }
                }.get()
            }
        } catch {
            await discardPending()
            throw error
        }
        let retiring: [Channel]
        do {
            // A shutdown may have begun while the loops built the generation.
            guard !isShuttingDown else { throw ServerError.shuttingDown }
            retiring = try await reconcileListeners(configuration)
        } catch {
            await discardPending()
            throw error
        }
        await forEachLoop { $0.commitPending() }
        tlsStores.retain(only: configuration)
        let healthChecks = self.healthChecks
        healthChecks.eventLoop.execute { healthChecks.value.reconcile(configuration.clusters) }
        for channel in retiring { try? await channel.close() }
        generation = number
        self.configuration = configuration
        return number
    }

    private func discardPending() async {
        tlsStores.retain(only: configuration)
        await forEachLoop { $0.discardPending() }
    }

    /// Where each listener is bound (useful with port 0).
    public func listenerAddresses() -> [String: SocketAddress] {
        listeners.compactMapValues { $0.channel.localAddress }
    }

    /// Counters summed over every loop.
    public func counters() async -> [String: Int] {
        var total: [String: Int] = [:]
        for loop in loops {
            let bound = contexts[ObjectIdentifier(loop)]!
            let snapshot = try? await loop.submit { bound.value.stats.counters }.get()
            for (name, value) in snapshot ?? [:] { total[name, default: 0] += value }
        }
        return total
    }

    /// Generations alive per loop, summed: the current one on each loop plus old ones still
    /// finishing requests.
    public func liveGenerations() async -> Int {
        var total = 0
        for loop in loops {
            let bound = contexts[ObjectIdentifier(loop)]!
            total += (try? await loop.submit { bound.value.liveGenerationCount }.get()) ?? 0
        }
        return total
    }

    /// What the generations leave behind, summed over every loop: whether old ones were let go.
    public func lifetimes() async -> GenerationLifetimes {
        var total = GenerationLifetimes()
        for loop in loops {
            let bound = contexts[ObjectIdentifier(loop)]!
            let one = try? await loop.submit {
                let context = bound.value
                return GenerationLifetimes(live: context.liveGenerationCount, inMemory: context.generationsInMemory,
                                           openStageRuntimes: context.openStageRuntimes)
            }.get()
            if let one {
                total.live += one.live
                total.inMemory += one.inMemory
                total.openStageRuntimes += one.openStageRuntimes
            }
        }
        return total
    }

    /// Old generations still finishing requests, over every loop (0 once they all drained).
    public func retiredGenerations() async -> Int {
        var total = 0
        for loop in loops {
            let bound = contexts[ObjectIdentifier(loop)]!
            total += (try? await loop.submit {
                let context = bound.value
                return context.liveGenerationCount - (context.generation == nil ? 0 : 1)
            }.get()) ?? 0
        }
        return total
    }

    /// Stops accepting, lets in-flight requests finish (closing idle connections at once), and
    /// after `drainTimeout` closes whatever is left.
    public func shutdown(drainTimeout: Duration) async {
        isShuttingDown = true
        let healthChecks = self.healthChecks
        try? await healthChecks.eventLoop.submit { healthChecks.value.stopAll() }.get()
        for (_, listener) in listeners { try? await listener.channel.close() }
        listeners.removeAll()
        tlsStores.retain(only: nil)
        await forEachLoop { context in
            context.isDraining = true
            for connection in context.connections.values { connection.quiesce() }
        }
        let deadline = ContinuousClock.now + drainTimeout
        while ContinuousClock.now < deadline, await openConnections() > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await forEachLoop { context in
            for connection in context.connections.values { connection.context?.close(promise: nil) }
            context.generation?.retire()
            context.generation = nil
        }
    }

    /// Each loop's context, in loop order.
    var loopContexts: [NIOLoopBound<LoopContext>] {
        loops.map { contexts[ObjectIdentifier($0)]! }
    }

    private func openConnections() async -> Int {
        var total = 0
        for loop in loops {
            let bound = contexts[ObjectIdentifier(loop)]!
            total += (try? await loop.submit { bound.value.connections.count }.get()) ?? 0
        }
        return total
    }

    private func forEachLoop(_ body: @escaping @Sendable (LoopContext) -> Void) async {
        for loop in loops {
            let bound = contexts[ObjectIdentifier(loop)]!
            try? await loop.submit { body(bound.value) }.get()
        }
    }

    // MARK: Listeners

    /// Binds the listeners `configuration` adds or moves; returns the server channels of the
    /// ones it removes or moves, to close once the generation is committed. If any bind fails,
    /// the ones bound here are closed again and nothing changes.
    private func reconcileListeners(_ configuration: LuxyConfiguration) async throws -> [Channel] {
        let wanted = Dictionary(uniqueKeysWithValues: configuration.listeners.map { ($0.name, $0) })
        var retiring: [String] = []
        for (name, listener) in listeners {
            if let new = wanted[name], new.host == listener.config.host, new.port == listener.config.port,
               new.proto == listener.config.proto, new.direction == listener.config.direction {
                listeners[name] = (new, listener.channel)
                continue
            }
            retiring.append(name)
        }
        var bound: [(ListenerConfiguration, Channel)] = []
        do {
            for listener in configuration.listeners where listeners[listener.name] == nil || retiring.contains(listener.name) {
                bound.append((listener, try await bind(listener)))
            }
            if let listenersBoundHook {
                try await listenersBoundHook(bound.reduce(into: [:]) { $0[$1.0.name] = $1.1.localAddress })
            }
        } catch {
            for (_, channel) in bound { try? await channel.close() }
            throw error
        }
        var closing: [Channel] = []
        for name in retiring {
            if let old = listeners.removeValue(forKey: name) { closing.append(old.channel) }
            logger.info("listener stopped", metadata: ["listener": "\(name)"])
        }
        for (listener, channel) in bound {
            listeners[listener.name] = (listener, channel)
            logger.info("listening", metadata: [
                "listener": "\(listener.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                "chain": "\(listener.chain.rawValue)",
            ])
        }
        return closing
    }

    private func bind(_ listener: ListenerConfiguration) async throws -> Channel {
        let contexts = self.contexts
        let tlsStores = self.tlsStores
        let logger = self.logger
        let name = listener.name
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // `tcpOption`, not `socketOption`: at SOL_SOCKET option 1 is SO_DEBUG, which only root may
                // set; a proxy running as any other user closed every connection it accepted.
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                // Reads start at 1 KiB (a request head fits; NIO's default is 2 KiB) and grow
                // when a read fills the buffer: an idle keep-alive connection holds less.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                    minimum: 64, initial: 1024, maximum: 65536))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // A listener added by a reload accepts before its generation is
                        // committed, so the pending generation counts too.
                        guard let loop = contexts[ObjectIdentifier(channel.eventLoop)]?.value,
                              let generation = loop.generation(serving: name),
                              let listener = generation.listener(named: name)
                        else { throw ChannelError.ioOnClosedChannel }
                        if listener.tls != nil {
                            // TLS first: everything after it sees decrypted bytes and the ALPN result.
                            guard let store = tlsStores.store(for: listener) else { throw ChannelError.ioOnClosedChannel }
                            // TCP has no 403 to give: a peer outside allowed_identities is closed.
                            try TLSSetup.addServerHandler(to: channel, listener: listener, store: store,
                                                          stats: loop.stats, logger: logger,
                                                          closeRefused: listener.proto == .tcp)
                        }
                        if listener.proto == .tcp {
                            return try TCPProxyPipeline.configure(channel, listener: listener,
                                                                  generation: generation, loop: loop)
                        }
                        // The original destination is read here, once per connection.
                        let peer = listener.originalDestination ? ConnectionPeer(acceptedOn: channel) : nil
                        try HTTPProxyPipeline.configure(channel.pipeline.syncOperations, listener: listener,
                                                        limits: generation.configuration.limits, loop: loop, peer: peer)
                    }
                }
                .bind(host: listener.host, port: listener.port)
                .get()
        } catch {
            throw ServerError.bindFailed(listener: listener.name, address: "\(listener.host):\(listener.port)",
                                         reason: "\(error)")
        }
    }
}
