import Logging
import LuxyConfig
import NIOConcurrencyHelpers

/// The TLS context stores of one `ProxyServer`, one per distinct `tls:` block. A reload that
/// keeps a block unchanged keeps its store (and its contexts and watcher); stores are looked
/// up when a connection is accepted or an upstream pool is built, never per request.
public final class TLSContextRegistry: Sendable {
    private let stores = NIOLockedValueBox<[TLSContextStore]>([])
    private let logger: Logger
    private let pollInterval: Duration?

    public init(logger: Logger, pollInterval: Duration? = .seconds(1)) {
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Makes a store for every `tls:` in `configuration` that has none yet. Blocking file I/O:
    /// the control plane calls it, never an event loop. Throws on unreadable or mismatched files.
    public func prepare(_ configuration: LuxyConfiguration) throws {
        for source in Self.sources(of: configuration) where store(for: source) == nil {
            let store = try TLSContextStore(source: source, logger: logger, pollInterval: pollInterval)
            stores.withLockedValue { $0.append(store) }
        }
    }

    /// Stops and forgets the stores `configuration` no longer uses (nil: all of them).
    public func retain(only configuration: LuxyConfiguration?) {
        let wanted = configuration.map(Self.sources(of:)) ?? []
        let dropped = stores.withLockedValue { stores -> [TLSContextStore] in
            let dropped = stores.filter { !wanted.contains($0.source) }
            stores.removeAll { !wanted.contains($0.source) }
            return dropped
        }
        for store in dropped { store.stop() }
    }

    public func store(for source: TLSContextStore.Source) -> TLSContextStore? {
        stores.withLockedValue { $0.first { $0.source == source } }
    }

    func store(for listener: ListenerConfiguration) -> TLSContextStore? {
        listener.tls.flatMap { store(for: .listener($0)) }
    }

    func store(for cluster: ClusterConfiguration) -> TLSContextStore? {
        cluster.tls.flatMap { store(for: .cluster($0)) }
    }

    private static func sources(of configuration: LuxyConfiguration) -> [TLSContextStore.Source] {
        configuration.listeners.compactMap { $0.tls.map(TLSContextStore.Source.listener) }
            + configuration.clusters.compactMap { $0.tls.map(TLSContextStore.Source.cluster) }
    }
}
