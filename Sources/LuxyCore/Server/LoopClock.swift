import NIOCore

/// The time on one event loop, taken from the loop's clock once per socket read being
/// delivered rather than at every use: a request's head, its end, its way upstream, and
/// an answer's end and its connection going back to the pool each happened within one
/// read. nginx takes one time per turn of its event loop (`ngx_time_update`) for the same
/// reason: every read of the clock costs about 25 ns here, and a request used to read it
/// six times. Out of a read (a timer, a connect completing, a stage resuming) it is read
/// afresh each time.
///
/// Stale by at most the time the read's own work takes: a Lua phase is bounded by its
/// slice. Deadlines armed from it (request timeout, idle) are that much early at worst.
///
/// Loop-confined.
final class LoopClock {
    private let eventLoop: EventLoop
    /// When the read being delivered began; nil out of a read.
    private var readTime: NIODeadline?

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    var now: NIODeadline {
        readTime ?? eventLoop.now
    }

    /// Runs `deliver`, the delivery of one socket read, with the time taken once.
    @inline(__always)
    func duringRead<Result>(_ deliver: () throws -> Result) rethrows -> Result {
        let entered = enterRead()
        defer { leaveRead(entered) }
        return try deliver()
    }

    /// `duringRead` for a delivery that cannot be a closure (it hands on a value it consumes):
    /// the time is taken here, unless a read being delivered took it already; pass what this
    /// returns to `leaveRead` when the delivery is over.
    @inline(__always)
    func enterRead() -> Bool {
        guard readTime == nil else { return false }
        readTime = eventLoop.now
        return true
    }

    @inline(__always)
    func leaveRead(_ entered: Bool) {
        if entered { readTime = nil }
    }
}

@available(*, unavailable)
extension LoopClock: Sendable {}
