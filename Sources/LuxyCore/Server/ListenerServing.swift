import LuxyConfig

/// One HTTP listener as one generation serves it: its configuration, router and Lua chain,
/// put together when the generation is built so a request finds them without a lookup.
///
/// Connections keep the last one they used and compare generation numbers before reusing it:
/// the generation is unowned here (it owns this), so it is only touched while current.
final class ListenerServing {
    let generationNumber: Int
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
        self.generationNumber = generation.number
        self.listener = listener
        self.router = router
        self.chain = chain
        self.validator = RequestHeadValidator(limits: generation.configuration.limits)
        self.emittedHeadLimits = EmittedHeadLimits(limits: generation.configuration.limits)
    }
}

@available(*, unavailable)
extension ListenerServing: Sendable {}
