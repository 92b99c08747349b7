import Logging
import LuxyLua

/// A stage's script loaded into one loop's VM, and the logger its lines go out under; the
/// HTTP and TCP stages add their phases on top.
class LuaStage {
    let resolved: ResolvedStage
    let script: LuaScript
    let vm: LuaVM
    let logger: Logger

    init(resolved: ResolvedStage, script: LuaScript, vm: LuaVM, logger: Logger) {
        self.resolved = resolved
        self.script = script
        self.vm = vm
        var logger = logger
        logger[metadataKey: "plugin"] = "\(resolved.displayPath)"
        self.logger = logger
    }

    var name: String { resolved.name }
}

@available(*, unavailable)
extension LuaStage: Sendable {}
