/// Whether a downstream connection may read now: reads are withheld while a stage or a slow
/// upstream holds the request back, or while too many pipelined requests wait. A read asked
/// for while withheld is remembered and made once the gate opens.
///
/// A value owned by its connection handler, on the connection's loop.
struct ReadGate {
    enum State {
        case open
        case paused
        /// Paused, and NIO asked for a read meanwhile.
        case pausedWithReadPending
    }

    private(set) var state = State.open
    /// The pipelined queue was full when NIO asked: read once it drains.
    private var readDeferredByPipeline = false

    /// NIO asks to read: true when it may, else the read is remembered.
    mutating func shouldRead(pipelineFull: Bool) -> Bool {
        switch state {
        case .open where !pipelineFull:
            return true
        case .open:
            readDeferredByPipeline = true
            return false
        case .paused, .pausedWithReadPending:
            state = .pausedWithReadPending
            return false
        }
    }

    /// Returns true when the state changed.
    mutating func setPaused(_ paused: Bool) -> Bool {
        switch (state, paused) {
        case (.open, true):
            state = .paused
            return true
        case (.paused, false):
            state = .open
            return true
        case (.pausedWithReadPending, false):
            state = .open
            readDeferredByPipeline = true
            return true
        default:
            return false
        }
    }

    /// True when a remembered read should be made now.
    mutating func takePendingRead(pipelineFull: Bool) -> Bool {
        guard case .open = state, !pipelineFull, readDeferredByPipeline else { return false }
        readDeferredByPipeline = false
        return true
    }
}
