import LuxyLua

/// A timer's next run on the virtual clock, until it ran or was cancelled. Confined to the
/// harness's loop.
final class VirtualScheduledWork: LuaScheduledWork {
    private enum State {
        case pending(() -> Void)
        case cancelled
        case ran
    }

    /// When it is due, in seconds on the virtual clock; `sequence` orders work due together.
    let at: Double
    let sequence: Int
    private var state: State

    init(at: Double, sequence: Int, work: @escaping () -> Void) {
        self.at = at
        self.sequence = sequence
        state = .pending(work)
    }

    var isPending: Bool {
        if case .pending = state { return true }
        return false
    }

    /// Due earlier, or as early and scheduled first.
    func comesBefore(_ other: VirtualScheduledWork) -> Bool {
        at < other.at || (at == other.at && sequence < other.sequence)
    }

    func run() {
        guard case .pending(let work) = state else { return }
        state = .ran
        work()
    }

    func cancel() {
        if case .pending = state { state = .cancelled }
    }
}

@available(*, unavailable)
extension VirtualScheduledWork: Sendable {}
