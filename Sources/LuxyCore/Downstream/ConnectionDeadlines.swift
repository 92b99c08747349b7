import NIOCore

/// The deadlines of one downstream connection, checked by one timer: the idle timeout, and
/// the request timeout of the exchange waiting on its upstream. The timer is armed for the
/// earliest deadline and only re-armed when a new one comes earlier, so a keep-alive
/// connection schedules (and cancels) nothing per request; a check that comes early looks,
/// finds nothing due and re-arms.
///
/// Times come from the connection's event loop (`EventLoop.now`), the clock its timer runs
/// on: the wall clock on a real loop, the test's clock on an `EmbeddedEventLoop`.
///
/// A value owned by its connection handler, on the connection's loop.
struct ConnectionDeadlines {
    let idleTimeout: TimeAmount?
    private var lastActivity = NIODeadline.now()
    /// When the exchange waiting on its upstream gets a 504.
    var upstream: NIODeadline?
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?

    init(idleTimeout: TimeAmount?) {
        self.idleTimeout = idleTimeout
    }

    mutating func touch(_ now: @autoclosure () -> NIODeadline) {
        if idleTimeout != nil { lastActivity = now() }
    }

    func idleExpired(at now: NIODeadline) -> Bool {
        guard let idleTimeout else { return false }
        return now - lastActivity >= idleTimeout
    }

    /// When the timer must look next, if ever.
    func nextCheck() -> NIODeadline? {
        let idle = idleTimeout.map { lastActivity + $0 }
        switch (idle, upstream) {
        case (let idle?, let upstream?): return min(idle, upstream)
        case (let idle?, nil): return idle
        case (nil, let upstream?): return upstream
        case (nil, nil): return nil
        }
    }

    /// Whether the timer must be (re)armed to fire by `due`.
    func needsTimer(at due: NIODeadline) -> Bool {
        guard let timerDue else { return true }
        return due < timerDue
    }

    /// Arms the timer for `due` unless it already fires no later.
    mutating func schedule(at due: NIODeadline, on eventLoop: EventLoop, _ fire: @escaping () -> Void) {
        guard needsTimer(at: due) else { return }
        timer?.cancel()
        timerDue = due
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: due) { [fire] in fire() }
    }

    /// The timer fired: the next deadline needs a new one.
    mutating func timerFired() {
        timer = nil
        timerDue = nil
    }

    mutating func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDue = nil
    }
}
