import NIOCore

/// The deadlines of the streams of one downstream HTTP/2 connection, checked by one timer
/// for the whole connection, as `ConnectionDeadlines` does for an HTTP/1.1 connection:
///
/// - the stream idle timeout (Envoy's `stream_idle_timeout`): a stream with no request part
///   read and no response part written for the timeout is ended by its handler
///   (`HTTPProxyHandler.streamIdleTimedOut`) — a 408 if nothing was answered yet, else a
///   reset — and its upstream request is abandoned;
/// - the request timeout of a stream's exchange waiting on its upstream (504).
///
/// Streams only note times. The timer is armed for the earliest deadline and re-armed only
/// when one comes earlier than the check already set: deadlines of later requests (the same
/// timeouts, from a later start) come later, so a stream opening or sending its request
/// upstream schedules nothing in the usual case; and the last stream closing leaves the timer
/// be (it finds nothing and stops), so a client sending one request after another costs one
/// check per timeout, not one per request.
///
/// Loop-confined: it belongs to the connection's event loop, as do the streams' handlers.
final class HTTP2StreamDeadlines {
    let idleTimeout: TimeAmount
    private let eventLoop: EventLoop
    private var streams: [ObjectIdentifier: HTTPProxyHandler] = [:]
    private var timer: Scheduled<Void>?
    private var timerDue: NIODeadline?

    init(idleTimeout: TimeAmount, eventLoop: EventLoop) {
        self.idleTimeout = idleTimeout
        self.eventLoop = eventLoop
    }

    func streamOpened(_ stream: HTTPProxyHandler, at now: NIODeadline) {
        streams[ObjectIdentifier(stream)] = stream
        check(by: now + idleTimeout)
    }

    func streamClosed(_ stream: HTTPProxyHandler) {
        streams[ObjectIdentifier(stream)] = nil
    }

    /// The connection is gone: its pending check goes with it.
    func connectionClosed() {
        timer?.cancel()
        timer = nil
        timerDue = nil
        streams.removeAll()
    }

    /// A stream has a deadline at `due` (its upstream request timeout): the check comes no later.
    func check(by due: NIODeadline) {
        if let timerDue, timerDue <= due { return }
        timer?.cancel()
        timerDue = due
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: due) { [weak self] in self?.sweep() }
    }

    /// Bounded by the connection's open streams (`max_concurrent_streams`).
    private func sweep() {
        timer = nil
        timerDue = nil
        let now = eventLoop.now
        var idle: [HTTPProxyHandler] = []
        var waitedTooLong: [HTTPProxyHandler] = []
        for stream in streams.values {
            if stream.lastStreamActivity + idleTimeout <= now {
                idle.append(stream)
            } else if let upstream = stream.upstreamDeadline, upstream <= now {
                waitedTooLong.append(stream)
            }
        }
        // Handled after the walk: ending a stream changes `streams`. An idle stream leaves
        // the set first, so it is never ended twice while its channel closes.
        for stream in idle {
            streams[ObjectIdentifier(stream)] = nil
            stream.streamIdleTimedOut()
        }
        for stream in waitedTooLong { stream.upstreamDeadlinePassed() }
        var next: NIODeadline?
        for stream in streams.values {
            var due = stream.lastStreamActivity + idleTimeout
            if let upstream = stream.upstreamDeadline { due = min(due, upstream) }
            next = next.map { min($0, due) } ?? due
        }
        if let next { check(by: next) }
    }
}

@available(*, unavailable)
extension HTTP2StreamDeadlines: Sendable {}
