/// How many generations and stage runtimes exist, summed over the loops: after reloads,
/// each loop should be back to its current generation and runtime once old requests end.
public struct GenerationLifetimes: Sendable, Equatable {
    /// Current generations plus retired ones still finishing HTTP exchanges.
    public var live = 0
    /// Generation objects not yet freed, open or closed: more than `live` means something
    /// still refers to a closed one.
    public var inMemory = 0
    /// Stage runtimes (Lua VMs) not closed: the live generations' plus those kept by TCP
    /// sessions begun on older ones.
    public var openStageRuntimes = 0

    public init(live: Int = 0, inMemory: Int = 0, openStageRuntimes: Int = 0) {
        self.live = live
        self.inMemory = inMemory
        self.openStageRuntimes = openStageRuntimes
    }
}
