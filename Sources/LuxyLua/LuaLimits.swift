/// What one VM may spend: instructions per phase (all resumes of one `on_request` or
/// `on_response` together, or one script's top-level code) and bytes for the whole VM.
public struct LuaLimits: Sendable {
    public var instructionBudget: Int
    public var memoryBytes: Int

    public init(instructionBudget: Int = 10_000_000, memoryBytes: Int = 64 << 20) {
        self.instructionBudget = instructionBudget
        self.memoryBytes = memoryBytes
    }
}
