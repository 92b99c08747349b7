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

    init(platform: LuaPlatform) {
        self.platform = platform
    }

    /// The VM closed: nothing of it may run any more.
    func vmClosed() {}
}

@available(*, unavailable)
extension LuxyVMState: Sendable {}
