/// One `q:consume(fn)` of one VM: while the VM's generation is current it is the queue's
/// consumer (unless a newer VM registers), and each wake-up runs `fn` as a timer callback
/// runs, once at a time; `fn` takes items with `q:dequeue()`. Used on its VM's loop only.
final class LuaQueueConsumer {
    private enum State {
        case registered
        case waiting
        case running(LuaBackgroundRun)
        case stopped
    }

    let queue: LuaSharedQueue
    let chunkName: String
    let functionRef: Int32
    private var state = State.registered

    init(queue: LuaSharedQueue, chunkName: String, functionRef: Int32) {
        self.queue = queue
        self.chunkName = chunkName
        self.functionRef = functionRef
    }

    func start(vm: LuaVM, host: LuaBackgroundHost, vmSerial: Int) {
        guard case .registered = state else { return }
        state = .waiting
        let waker = host.makeWaker { [weak self, weak vm, weak host] in
            guard let self, let vm, let host else { return }
            self.run(vm: vm, host: host, vmSerial: vmSerial)
        }
        queue.register(LuaSharedQueue.Consumer(vmSerial: vmSerial, wake: waker))
    }

    func stop(vmSerial: Int) {
        state = .stopped
        queue.unregister(vmSerial: vmSerial)
    }

    private func run(vm: LuaVM, host: LuaBackgroundHost, vmSerial: Int) {
        guard case .waiting = state, !vm.isClosed else { return }
        let run = LuaBackgroundRun(vm: vm, host: host, chunkName: chunkName) { [weak self, weak host] error in
            guard let self else { return }
            if let error { host?.log(.error, "queue consumer failed: \(error.message)", chunkName: self.chunkName) }
            guard case .running = self.state else { return }
            self.state = .waiting
            self.queue.consumerFinished(vmSerial: vmSerial)
        }
        guard let run else { return queue.consumerFinished(vmSerial: vmSerial) }
        state = .running(run)
        run.start(functionRef: functionRef)
    }
}

@available(*, unavailable)
extension LuaQueueConsumer: Sendable {}
