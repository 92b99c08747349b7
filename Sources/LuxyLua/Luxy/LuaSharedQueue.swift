import NIOConcurrencyHelpers

/// A named bounded queue for the whole process (proxy-wasm's shared queues): any loop's VM
/// enqueues, one consumer dequeues on its own loop, woken by a callback. It lives in
/// `LuaPlatform`, keyed by name, so items and the count of refusals survive reloads.
///
/// Thread-safe through one lock (a mutex, as `LuaSharedDict`'s, for the same reasons): held
/// for an append or a removal and never across Lua code. The wake-up runs after it is let go.
public final class LuaSharedQueue: Sendable {
    /// Who takes the items: the VM that registered last (see `register`).
    struct Consumer: Sendable {
        var vmSerial: Int
        /// Runs the consumer's callback on its loop, from any thread.
        var wake: @Sendable () -> Void
    }

    private enum ConsumerState {
        case none
        /// Waits for items.
        case idle(Consumer)
        /// Woken (or running) and not yet told the queue is empty: no second wake-up.
        case woken(Consumer)
    }

    private struct State {
        var items: [LuaSharedValue] = []
        var head = 0
        var maxLength: Int
        var rejected = 0
        var consumer = ConsumerState.none

        var count: Int { items.count - head }
    }

    public let name: String
    private let state: NIOLockedValueBox<State>

    init(name: String, maxLength: Int) {
        self.name = name
        self.state = NIOLockedValueBox(State(maxLength: maxLength))
    }

    func setMaxLength(_ maxLength: Int) {
        state.withLockedValue { $0.maxLength = maxLength }
    }

    private enum EnqueueOutcome {
        case refused
        case queued(wake: (@Sendable () -> Void)?)
    }

    /// False (and counted) when the queue is full.
    func enqueue(_ value: LuaSharedValue) -> Bool {
        let outcome: EnqueueOutcome = state.withLockedValue { state in
            guard state.count < state.maxLength else {
                state.rejected += 1
                return .refused
            }
            state.items.append(value)
            guard case .idle(let consumer) = state.consumer else { return .queued(wake: nil) }
            state.consumer = .woken(consumer)
            return .queued(wake: consumer.wake)
        }
        switch outcome {
        case .refused:
            return false
        case .queued(let wake):
            wake?()
            return true
        }
    }

    func dequeue() -> LuaSharedValue? {
        state.withLockedValue { state in
            guard state.head < state.items.count else { return nil }
            let value = state.items[state.head]
            state.head += 1
            // Compact once the consumed part is half the array, so memory follows the length.
            if state.head * 2 >= state.items.count {
                state.items.removeFirst(state.head)
                state.head = 0
            }
            return value
        }
    }

    var length: Int { state.withLockedValue { $0.count } }

    /// The VM with serial `consumer.vmSerial` consumes from now on, replacing an older VM's
    /// registration (the newest generation's, and of its loops the last to start, wins).
    func register(_ consumer: Consumer) {
        let wake: (@Sendable () -> Void)? = state.withLockedValue { state in
            if state.count > 0 {
                state.consumer = .woken(consumer)
                return consumer.wake
            }
            state.consumer = .idle(consumer)
            return nil
        }
        wake?()
    }

    /// The VM's generation retired: it consumes no more, unless a newer one took over already.
    func unregister(vmSerial: Int) {
        state.withLockedValue { state in
            switch state.consumer {
            case .idle(let consumer), .woken(let consumer):
                if consumer.vmSerial == vmSerial { state.consumer = .none }
            case .none: break
            }
        }
    }

    /// The consumer's callback returned: woken again at once if items are left, else idle.
    func consumerFinished(vmSerial: Int) {
        let wake: (@Sendable () -> Void)? = state.withLockedValue { state in
            guard case .woken(let consumer) = state.consumer, consumer.vmSerial == vmSerial else { return nil }
            if state.count > 0 { return consumer.wake }
            state.consumer = .idle(consumer)
            return nil
        }
        wake?()
    }

    public var statistics: LuaSharedQueueStatistics {
        state.withLockedValue {
            LuaSharedQueueStatistics(name: name, length: $0.count, maxLength: $0.maxLength, rejected: $0.rejected)
        }
    }
}

/// One queue's figures, for `/stats` and `/metrics`.
public struct LuaSharedQueueStatistics: Sendable {
    public var name: String
    public var length: Int
    public var maxLength: Int
    public var rejected: Int
}
