import LuxyConfig
import LuxyLua

extension LuaLimits {
    /// The `lua_*` keys of `limits:` in YAML.
    public init(_ limits: LimitsConfiguration) {
        self.init(instructionBudget: limits.luaInstructionBudget, memoryBytes: limits.luaMemoryBytes,
                  instructionSlice: limits.luaInstructionSlice, maxScriptBytes: limits.luaMaxScriptBytes,
                  maxIdleCoroutines: limits.luaMaxIdleCoroutines)
        maxJSONBytes = limits.luaMaxJSONBytes
    }
}
