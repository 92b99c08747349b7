/// What one VM may spend: instructions per phase (all resumes of one `on_request` or
/// `on_response` together, or one script's top-level code) and bytes for the whole VM.
public struct LuaLimits: Sendable {
    public var instructionBudget: Int
    public var memoryBytes: Int
    /// Instructions a phase runs before it gives the event loop back for a tick; the rest of
    /// its budget runs on later ticks. 0 runs the whole budget in one go.
    public var instructionSlice: Int
    /// The largest script source `loadScript` (and `load` inside a script) compiles.
    public var maxScriptBytes: Int
    /// Finished coroutines kept for reuse; those beyond it are left to the collector.
    public var maxIdleCoroutines: Int
    /// The largest JSON text `cjson.decode` reads and `cjson.encode` writes (their loops run
    /// in C, out of reach of the count hook; see luxy_json.c).
    public var maxJSONBytes = LuaLimits.defaultMaxJSONBytes

    public static let defaultInstructionSlice = 250_000
    public static let defaultMaxScriptBytes = 1 << 20
    public static let defaultMaxIdleCoroutines = 64
    public static let defaultMaxJSONBytes = 1 << 20

    public init(instructionBudget: Int = 10_000_000, memoryBytes: Int = 64 << 20,
                instructionSlice: Int = LuaLimits.defaultInstructionSlice,
                maxScriptBytes: Int = LuaLimits.defaultMaxScriptBytes,
                maxIdleCoroutines: Int = LuaLimits.defaultMaxIdleCoroutines) {
        self.instructionBudget = instructionBudget
        self.memoryBytes = memoryBytes
        self.instructionSlice = instructionSlice
        self.maxScriptBytes = maxScriptBytes
        self.maxIdleCoroutines = maxIdleCoroutines
    }
}
