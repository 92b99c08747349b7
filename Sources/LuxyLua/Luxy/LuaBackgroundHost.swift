/// What a VM's work outside requests (timer callbacks, queue consumers) runs on: its event
/// loop and the generation that serves there. Given to the VM when its generation is
/// committed (`LuaVM.startBackgroundWork`); a VM without one (a scratch VM, or one whose
/// generation is not committed yet) runs none of that work. Used on the VM's loop only.
public protocol LuaBackgroundHost: AnyObject {
    /// Runs `work` on the loop after `seconds`; cancellable until it ran.
    func schedule(after seconds: Double, _ work: @escaping () -> Void) -> LuaScheduledWork
    /// Runs `work` on the loop once it has served its other connections (the next slice).
    func continueLater(_ work: @escaping () -> Void)
    /// A function any thread may call to run `work` on the loop soon (a queue waking its
    /// consumer). Made on the loop.
    func makeWaker(_ work: @escaping () -> Void) -> @Sendable () -> Void
    func log(_ level: LuaLogLevel, _ message: String, chunkName: String)
    func clusterExists(_ name: String) -> Bool
    /// A side call through the generation's clusters; transport failures come back as a 5xx.
    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void)
}

/// Work scheduled on a loop that has not run yet.
public protocol LuaScheduledWork: AnyObject {
    func cancel()
}
