/// One `luxy.timer.every` or `luxy.timer.after` of one VM. Created by a script's top-level
/// code; runs only while the VM's generation is the loop's current one (from
/// `LuaVM.startBackgroundWork` to `stopBackgroundWork`). A callback's error is logged with
/// its chunk:line and the timer goes on, unless `stop_on_error` was set. Runs never overlap:
/// the next is scheduled when one ends. Used on its VM's loop only.
final class LuaTimer {
    enum Repetition: Equatable {
        case once
        case every
    }

    private enum State {
        /// Made at load, waiting for its generation to be committed.
        case registered
        case scheduled(LuaScheduledWork)
        case running(LuaBackgroundRun)
        case stopped
    }

    let seconds: Double
    let repetition: Repetition
    let stopOnError: Bool
    let chunkName: String
    /// The callback, held by a registry ref of the VM.
    let functionRef: Int32
    private var state = State.registered

    init(seconds: Double, repetition: Repetition, stopOnError: Bool, chunkName: String, functionRef: Int32) {
        self.seconds = seconds
        self.repetition = repetition
        self.stopOnError = stopOnError
        self.chunkName = chunkName
        self.functionRef = functionRef
    }

    func start(vm: LuaVM, host: LuaBackgroundHost) {
        guard case .registered = state else { return }
        schedule(vm: vm, host: host)
    }

    /// `cancel()` or the generation retiring: a run in progress finishes, no other starts.
    func stop() {
        if case .scheduled(let work) = state { work.cancel() }
        state = .stopped
    }

    private func schedule(vm: LuaVM, host: LuaBackgroundHost) {
        let work = host.schedule(after: seconds) { [weak self, weak vm, weak host] in
            guard let self, let vm, let host else { return }
            self.fire(vm: vm, host: host)
        }
        state = .scheduled(work)
    }

    private func fire(vm: LuaVM, host: LuaBackgroundHost) {
        guard case .scheduled = state, !vm.isClosed else { return }
        let run = LuaBackgroundRun(vm: vm, host: host, chunkName: chunkName) { [weak self, weak vm, weak host] error in
            guard let self else { return }
            if let error {
                host?.log(.error, "timer failed: \(error.message)", chunkName: self.chunkName)
            }
            guard case .running = self.state else { return }
            if self.repetition == .once || (error != nil && self.stopOnError) {
                self.state = .stopped
            } else if let vm, let host, !vm.isClosed {
                self.schedule(vm: vm, host: host)
            } else {
                self.state = .stopped
            }
        }
        guard let run else {
            host.log(.error, "timer cannot run: no coroutine", chunkName: chunkName)
            return schedule(vm: vm, host: host)
        }
        state = .running(run)
        run.start(functionRef: functionRef)
    }
}

@available(*, unavailable)
extension LuaTimer: Sendable {}
