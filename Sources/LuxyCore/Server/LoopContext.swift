import Logging
import NIOCore

/// Per event loop for the life of the process: the generation new requests start on, the
/// counters, the upstream pools, and the open connections (for a graceful drain). Only touched on its loop.
final class LoopContext {
    let eventLoop: EventLoop
    let stats = ProxyStats()
    let logger: Logger
    var generation: LoopGeneration?
    /// Built on this loop but not yet committed on every loop.
    var pendingGeneration: LoopGeneration?
    /// Old generations still finishing requests.
    var retiredGenerations: [LoopGeneration] = []
    /// HTTP/1.1 connections and HTTP/2 connections (not their streams), for a graceful drain.
    var connections: [ObjectIdentifier: any DrainableConnection] = [:]
    var isDraining = false

    /// Upstream clusters and their pools, shared by the generations that use them.
    let upstreamClusters: UpstreamClusterRegistry

    init(eventLoop: EventLoop, tlsStores: TLSContextRegistry?, logger: Logger = Logger(label: "luxy")) {
        self.eventLoop = eventLoop
        self.logger = logger
        self.upstreamClusters = UpstreamClusterRegistry(eventLoop: eventLoop, tlsStores: tlsStores)
    }

    func commitPending() {
        guard let pending = pendingGeneration else { return }
        pendingGeneration = nil
        if let old = generation {
            old.retire()
            if !old.isClosed { retiredGenerations.append(old) }
        }
        generation = pending
        retiredGenerations.removeAll { $0.isClosed }
    }

    /// Generations alive on this loop: the current one and old ones still finishing requests.
    var liveGenerationCount: Int {
        retiredGenerations.removeAll { $0.isClosed }
        return retiredGenerations.count + (generation == nil ? 0 : 1)
    }
}

@available(*, unavailable)
extension LoopContext: Sendable {}
