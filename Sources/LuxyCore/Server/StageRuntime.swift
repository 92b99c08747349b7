/// What one generation's stage chains run on, on one loop (in LuxyPlugins: its Lua VM),
/// closed once its last user lets go. Its users are the generation itself, for as long as
/// it serves or finishes HTTP exchanges, and every TCP session begun on it: a long TCP
/// session keeps the VM its stages run on, but not the generation's upstream pools.
///
/// Only touched on its loop.
final class StageRuntime {
    private enum State {
        case open(users: Int)
        case closed
    }

    private var state: State
    private let onClose: (() -> Void)?
    /// Counts open runtimes, so tests and the admin API can see old ones go.
    private unowned let loop: LoopContext

    /// Opened with one user: the generation it is built for.
    init(loop: LoopContext, onClose: (() -> Void)?) {
        self.loop = loop
        self.onClose = onClose
        self.state = .open(users: 1)
        loop.openStageRuntimes += 1
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    func acquire() {
        guard case .open(let users) = state else {
            preconditionFailure("a closed stage runtime was acquired")
        }
        state = .open(users: users + 1)
    }

    func release() {
        guard case .open(let users) = state else { return }
        guard users == 1 else {
            state = .open(users: users - 1)
            return
        }
        state = .closed
        loop.openStageRuntimes -= 1
        onClose?()
    }
}

@available(*, unavailable)
extension StageRuntime: Sendable {}
