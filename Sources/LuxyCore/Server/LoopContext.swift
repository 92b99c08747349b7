import Logging
import NIOCore

/// Per event loop for the life of the process: the generation new requests start on, the
/// counters, the upstream pools, and the open connections (for a graceful drain).
///
/// Only touched on its loop.
final class LoopContext {
    let eventLoop: EventLoop
    let stats: ProxyStats
    let logger: Logger
    var generation: LoopGeneration?
    /// Built on this loop but not yet committed on every loop.
    var pendingGeneration: LoopGeneration?
    /// Old generations still finishing requests.
    var retiredGenerations: [LoopGeneration] = []
    /// HTTP/1.1 connections and HTTP/2 connections (not their streams), for a graceful drain.
    var connections: [ObjectIdentifier: any DrainableConnection] = [:]
    var isDraining = false
    /// Stage runtimes (Lua VMs) not closed yet: the generations' and those TCP sessions keep.
    var openStageRuntimes = 0
    /// Every generation built here, weakly: what is still in memory, for tests and the admin API.
    private var builtGenerations: [WeakLoopGeneration] = []
    private var generationsBuilt = 0

    /// Upstream clusters and their pools, shared by the generations that use them.
    let upstreamClusters: UpstreamClusterRegistry
    /// The head buffers and the clock the loop's connections share, client and upstream.
    let shared: LoopShared
    /// What the loop's HTTP/1.1 connections encode their heads into: client connections their
    /// responses, upstream ones their requests.
    var headBuffer: ReusedHeadBuffer { shared.headBuffer }
    /// The loop's time, taken once per socket read being delivered.
    var clock: LoopClock { shared.clock }
    /// Long field strings of the loop's client requests seen lately (`user-agent`, `accept`).
    let fieldStrings = RepeatedFieldStrings()
    /// The flushes of the loop's connections, done at the end of each turn.
    let flushes: LoopFlushes

    init(eventLoop: EventLoop, tlsStores: TLSContextRegistry?, logger: Logger = Logger(label: "luxy")) {
        self.eventLoop = eventLoop
        let shared = LoopShared(eventLoop: eventLoop)
        self.shared = shared
        self.flushes = LoopFlushes(eventLoop: eventLoop)
        self.logger = logger
        let stats = ProxyStats()
        self.stats = stats
        self.upstreamClusters = UpstreamClusterRegistry(eventLoop: eventLoop, tlsStores: tlsStores, stats: stats,
                                                        logger: logger, shared: shared)
    }

    func commitPending() {
        guard let pending = pendingGeneration else { return }
        pendingGeneration = nil
        if let old = generation { retire(old) }
        generation = pending
        pending.committed()
        retiredGenerations.removeAll { $0.isClosed }
    }

    /// A failed reload drops what it built here. Requests a listener it bound already
    /// accepted keep running on it; it closes after them.
    func discardPending() {
        guard let pending = pendingGeneration else { return }
        pendingGeneration = nil
        retire(pending)
    }

    private func retire(_ generation: LoopGeneration) {
        generation.retire()
        if !generation.isClosed { retiredGenerations.append(generation) }
    }

    /// Generations alive on this loop: the current one and old ones still finishing requests.
    var liveGenerationCount: Int {
        retiredGenerations.removeAll { $0.isClosed }
        return retiredGenerations.count + (generation == nil ? 0 : 1)
    }

    func nextGenerationBuild() -> Int {
        generationsBuilt += 1
        return generationsBuilt
    }

    func track(_ generation: LoopGeneration) {
        builtGenerations.removeAll { $0.generation == nil }
        builtGenerations.append(WeakLoopGeneration(generation: generation))
    }

    /// Generations not yet freed, whether open or closed: what something still refers to.
    var generationsInMemory: Int {
        builtGenerations.removeAll { $0.generation == nil }
        return builtGenerations.count
    }
}

@available(*, unavailable)
extension LoopContext: Sendable {}
