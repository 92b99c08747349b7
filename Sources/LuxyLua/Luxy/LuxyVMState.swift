import CLua

/// The `luxy` table's side of one VM: the metatables of its objects and the Swift objects
/// behind them (found by a Lua object's `aux`). Used on the VM's event loop only, as the VM is.
final class LuxyVMState {
    let platform: LuaPlatform
    /// Registry refs of the per-kind metatables, indexed by `LuxyObjectKind.rawValue - 100`.
    var metatableRefs: [Int32] = []
    /// The dictionaries this VM's scripts opened, by `aux`; each is opened once per VM.
    var dicts: [LuaSharedDict] = []
    var dictIndexByName: [String: Int] = [:]
    /// Timers made by the scripts' top-level code, by `aux`.
    var timers: [LuaTimer] = []
    /// The queues this VM's scripts opened, by `aux`.
    var queues: [LuaSharedQueue] = []
    /// `q:consume(fn)` calls of the top-level code, registered while the generation is current.
    var consumers: [LuaQueueConsumer] = []
    /// The script whose top-level code runs now: timers and consumers may only be made there.
    var loadingChunkName: String?
    /// Set while the VM's generation is the loop's current one.
    private(set) var backgroundHost: LuaBackgroundHost?

    /// Names this VM when it declares metrics (see `LuaMetricFamily.declaredBy`).
    let vmSerial: Int
    /// Where this VM's metric values go: its loop's shard, or a private one.
    var metricShard = LuaMetricShard()
    /// The metric families this VM's scripts declared, by `aux`.
    var metrics: [LuaMetricShard.FamilyValues] = []
    /// The access-log formats this VM's scripts compiled (`luxy.log_format`), by `aux`.
    var logFormats: [LuaLogFormat] = []

    init(platform: LuaPlatform) {
        self.platform = platform
        self.vmSerial = platform.metrics.nextVMSerial()
    }

    func startBackgroundWork(vm: LuaVM, host: LuaBackgroundHost) {
        guard backgroundHost == nil else { return }
        backgroundHost = host
        for timer in timers { timer.start(vm: vm, host: host) }
        for consumer in consumers { consumer.start(vm: vm, host: host, vmSerial: vmSerial) }
    }

    func stopBackgroundWork() {
        for timer in timers { timer.stop() }
        for consumer in consumers { consumer.stop(vmSerial: vmSerial) }
        backgroundHost = nil
    }

    /// The VM closed: nothing of it may run any more.
    func vmClosed() {
        stopBackgroundWork()
    }
}

@available(*, unavailable)
extension LuxyVMState: Sendable {}
