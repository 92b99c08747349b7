import LuxyConfig

/// One HTTP listener as one generation serves it: its configuration, router and Lua chain,
/// put together when the generation is built so a request finds them without a lookup.
///
/// Connections keep the last one they used and compare build numbers before reusing it: the
/// generation is unowned here (it owns this), so it is only touched while current. Build
/// numbers, not generation numbers: a failed reload's number is used again by the next one,
/// and a connection that served from the failed generation must not take the new one for it.
final class ListenerServing {
    let generationBuild: Int
    unowned let generation: LoopGeneration
    let listener: ListenerConfiguration
    let router: Router
    let chain: HTTPStageChain?
    /// The generation's edge checks on request heads.
    let validator: RequestHeadValidator
    /// What the heads stages leave may hold.
    let emittedHeadLimits: EmittedHeadLimits

    init(generation: LoopGeneration, listener: ListenerConfiguration, router: Router, chain: HTTPStageChain?) {
        self.generation = generation
        self.generationBuild = generation.build
        self.listener = listener
        self.router = router
        self.chain = chain
        self.validator = RequestHeadValidator(limits: generation.configuration.limits)
        self.emittedHeadLimits = EmittedHeadLimits(limits: generation.configuration.limits)
    }
}

@available(*, unavailable)
extension ListenerServing: Sendable {}
