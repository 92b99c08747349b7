import NIOCore

/// The deadlines of one downstream connection, checked by one timer: what the client owes
/// (the next request, the rest of a head, the rest of a body), a response stuck on a client
/// that does not read, and the request timeout of the exchange waiting on its upstream.
/// The timer is armed for the earliest deadline and only re-armed when a new one comes
/// earlier, so a keep-alive connection schedules (and cancels) nothing per request: moving
/// between the client states below only stores a time; a check that comes early looks,
/// finds nothing due and re-arms. Only the rare states re-arm at once: a head left
/// incomplete at the end of a read, a connection that stopped being writable.
///
/// Times come from the connection's event loop (`EventLoop.now`), the clock its timer runs
/// on: the wall clock on a real loop, the test's clock on an `EmbeddedEventLoop`.
///
/// A value owned by its connection handler, on the connection's loop.
struct ConnectionDeadlines {
    /// What the connection waits for from its client, and since when.
    enum ClientWait: Equatable {
        /// Between requests (keep-alive): the idle timeout.
        case nextRequest(since: NIODeadline)
        /// A request head began (or the connection opened) and is not complete yet: the
        /// request header timeout.
        case requestHead(since: NIODeadline)
        /// A request body is unfinished: the body timeout, from its last read.
        case requestBody(lastRead: NIODeadline)
        /// The request is complete and being answered: the client owes nothing.
        case nothing
    }

    /// Which bound a check found passed, earliest concern first.
    enum Expiry: Equatable {
        case upstream
        case send
        case idle
        case requestHead
        case requestBody
    }

    let timeouts: DownstreamTimeouts
    var client: ClientWait
    /// When the exchange waiting on its upstream gets a 504.
    var upstream: NIODeadline?
    /// Since when the connection has not been writable, with bytes of a response waiting.
    var sendStalledSince: NIODeadline?
    private var timer: NIOScheduledCallback?
    private var timerDue: NIODeadline?

    /// `opened`: when the first request's head clock starts (the connection's start, or the
    /// end of its TLS handshake).
    init(timeouts: DownstreamTimeouts, opened: NIODeadline) {
        self.timeouts = timeouts
        self.client = timeouts.requestHeader == nil ? .nextRequest(since: opened) : .requestHead(since: opened)
    }

    /// When the client's current wait runs out; nil when it is not bounded.
    private var clientDue: NIODeadline? {
        switch client {
        case .nextRequest(let since): return timeouts.idle.map { since + $0 }
        case .requestHead(let since): return timeouts.requestHeader.map { since + $0 }
        case .requestBody(let lastRead): return timeouts.requestBody.map { lastRead + $0 }
        case .nothing: return nil
        }
    }

    private var sendDue: NIODeadline? {
        guard let sendStalledSince, let send = timeouts.send else { return nil }
        return sendStalledSince + send
    }

    /// The earliest bound passed at `now`, if any.
    func expired(at now: NIODeadline) -> Expiry? {
        if let upstream, upstream <= now { return .upstream }
        if let sendDue, sendDue <= now { return .send }
        guard let clientDue, clientDue <= now else { return nil }
        switch client {
        case .nextRequest: return .idle
        case .requestHead: return .requestHead
        case .requestBody: return .requestBody
        case .nothing: return nil
        }
    }

    /// Arms the timer for the earliest deadline, unless it already fires no later (the usual
    /// case: a new request's deadline is later than the check already scheduled). `handler`
    /// is the connection's handler itself, which NIO holds until the timer fires or is
    /// cancelled: no closure, and no weak reference to the handler.
    mutating func arm(on eventLoop: EventLoop, handler: some NIOScheduledCallbackHandler) {
        guard let due = Self.earliest(Self.earliest(clientDue, upstream), sendDue) else { return }
        if let timerDue, timerDue <= due { return }
        timer?.cancel()
        do {
            timer = try eventLoop.assumeIsolated().scheduleCallback(at: due, handler: handler)
            timerDue = due
        } catch {
            // The loop is shutting down: nothing is left to time.
            timer = nil
            timerDue = nil
        }
    }

    private static func earliest(_ first: NIODeadline?, _ second: NIODeadline?) -> NIODeadline? {
        guard let first else { return second }
        guard let second else { return first }
        return min(first, second)
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
