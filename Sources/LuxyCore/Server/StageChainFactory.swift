import LuxyConfig
import NIOCore

/// Builds the Lua stage chains of one generation on one event loop. LuxyPlugins implements
/// it; the core calls it on every loop when a configuration is installed.
public protocol StageChainFactory: Sendable {
    /// Called on `eventLoop`. Throws when anything fails to build: the generation is then
    /// dropped on every loop and the running one keeps serving. `stats` are that loop's
    /// counters, for stages to register theirs (`ProxyStats.counter(named:)`).
    func makeChains(for configuration: LuxyConfiguration, generation: Int, on eventLoop: EventLoop,
                    stats: ProxyStats) throws -> LoopChains
}

/// A loop's chains for one generation, and what to release when the generation closes.
public struct LoopChains {
    public var chains: [ChainName: HTTPStageChain]
    /// The `-tcp` chains, keyed like `chains`.
    public var tcpChains: [ChainName: TCPStageChain]
    public var onClose: (() -> Void)?
    /// The generation became the one new requests start on, on this loop: the stages' own work
    /// outside requests (Lua timers) may start, with side calls through its clusters.
    public var onCommit: ((GenerationSideCalls) -> Void)?
    /// A newer generation took over on this loop (or the build was discarded, or the proxy
    /// shuts down): that work stops, though requests in flight still finish on it.
    public var onRetire: (() -> Void)?

    public init(chains: [ChainName: HTTPStageChain], tcpChains: [ChainName: TCPStageChain] = [:],
                onClose: (() -> Void)? = nil, onCommit: ((GenerationSideCalls) -> Void)? = nil,
                onRetire: (() -> Void)? = nil) {
        self.chains = chains
        self.tcpChains = tcpChains
        self.onClose = onClose
        self.onCommit = onCommit
        self.onRetire = onRetire
    }
}

@available(*, unavailable)
extension LoopChains: Sendable {}
