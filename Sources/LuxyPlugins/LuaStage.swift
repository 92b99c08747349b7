import Logging
import LuxyLua

/// A stage's script loaded into one loop's VM, and the logger its lines go out under; the
/// HTTP and TCP stages add their phases on top.
class LuaStage {
    let resolved: ResolvedStage
    let script: LuaScript
    let vm: LuaVM
    let logger: Logger
    /// Its `clear_route_cache`: whether a change to a field routing reads has the route chosen
    /// again. Read out of its configuration once, here, not by every `headers()`.
    let clearsRouteCache: Bool

    init(resolved: ResolvedStage, script: LuaScript, vm: LuaVM, logger: Logger) {
        self.resolved = resolved
        self.script = script
        self.vm = vm
        clearsRouteCache = resolved.configuration.clearRouteCache
        var logger = logger
        logger[metadataKey: "plugin"] = "\(resolved.displayPath)"
        self.logger = logger
    }

    var name: String { resolved.name }
}

@available(*, unavailable)
extension LuaStage: Sendable {}
