/// Whether a downstream connection may read now: reads are withheld while a stage or a slow
/// upstream holds the request back (`paused`), or while too many pipelined requests wait. A
/// read NIO asked for while withheld is remembered and made once both allow it.
///
/// A value owned by its connection handler, on the connection's loop.
struct ReadGate {
    private(set) var isPaused = false
    /// NIO asked for a read that was withheld.
    private var readPending = false

    /// NIO asks to read: true when it may, else the read is remembered.
    mutating func shouldRead(pipelineFull: Bool) -> Bool {
        guard isPaused || pipelineFull else { return true }
        readPending = true
        return false
    }

    /// Returns true when the state changed.
    mutating func setPaused(_ paused: Bool) -> Bool {
        guard paused != isPaused else { return false }
        isPaused = paused
        return true
    }

    /// True when a remembered read should be made now.
    mutating func takePendingRead(pipelineFull: Bool) -> Bool {
        guard readPending, !isPaused, !pipelineFull else { return false }
        readPending = false
        return true
    }
}
