import LuxyConfig
import LuxyLua

/// One script loaded for a test, with what production's stage keeps beside it. Used on the
/// harness's loop, as its script's VM is.
struct PluginTestStage {
    var name: String
    var chunkName: String
    var script: LuaScript
    /// The chain entry: `fail_open`, and the `services:` it is scoped to.
    var configuration: StageConfiguration

    var failOpen: Bool { configuration.failOpen }
}

/// What a test runs requests or connections through: one plugin (`luxy_test.load`) or a
/// chain of a config file (`luxy_test.chain`), its stages in run order. On the harness's loop.
struct PluginTestTarget {
    var stages: [PluginTestStage]
    /// The config's clusters, which `httpCall` may name without a scripted answer.
    var clusters: Set<String>
}
