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

    /// Arms the timer for the earliest deadline, unless it already fires no later (the usual
    /// case: a new request's deadline is later than the check already scheduled). `onDue` is
    /// the connection's one callback, made once, so arming allocates nothing.
    mutating func arm(on eventLoop: EventLoop, onDue: @escaping () -> Void) {
        let idle = idleTimeout.map { lastActivity + $0 }
        let due: NIODeadline
        switch (idle, upstream) {
        case (let idle?, let upstream?): due = min(idle, upstream)
        case (let idle?, nil): due = idle
        case (nil, let upstream?): due = upstream
        case (nil, nil): return
        }
        if let timerDue, timerDue <= due { return }
        timer?.cancel()
        timerDue = due
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: due, onDue)
    }

    /// The timer fired: the next deadline needs a new one.
    mutating func timerFired() {
        timer = nil
        timerDue = nil
    }

    mutating func cancelTimer() {
        timer?.cancel()
        timerDue = nil
        timer = nil
    }
}
