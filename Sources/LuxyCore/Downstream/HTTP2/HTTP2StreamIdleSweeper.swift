import NIOCore

/// The stream idle timeout of one downstream HTTP/2 connection (Envoy's
/// `stream_idle_timeout`): a stream with no request part read and no response part written
/// for the timeout is ended by its handler (`HTTPProxyHandler.streamIdleTimedOut`) — a 408 if
/// nothing was answered yet, else a reset — and its upstream request is abandoned.
///
/// One timer per connection, not one per stream: streams only note the time of their last
/// frame; the timer fires for the stream due first, ends what is due, and re-arms for the
/// next. A stream opened later is never due earlier than the timer already set (they share
/// one timeout), so opening a stream schedules nothing unless none is pending; and the last
/// stream closing leaves the timer be (it finds nothing and stops), so a client sending one
/// request after another schedules one check per timeout, not one per request.
///
/// Loop-confined: it belongs to the connection's event loop, as do the streams' handlers.
final class HTTP2StreamIdleSweeper {
    let timeout: TimeAmount
    private let eventLoop: EventLoop
    private var streams: [ObjectIdentifier: HTTPProxyHandler] = [:]
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, eventLoop: EventLoop) {
        self.timeout = timeout
        self.eventLoop = eventLoop
    }

    func streamOpened(_ stream: HTTPProxyHandler, at now: NIODeadline) {
        streams[ObjectIdentifier(stream)] = stream
        if timer == nil { arm(at: now + timeout) }
    }

    func streamClosed(_ stream: HTTPProxyHandler) {
        streams[ObjectIdentifier(stream)] = nil
    }

    /// The connection is gone: its pending check goes with it.
    func connectionClosed() {
        timer?.cancel()
        timer = nil
        streams.removeAll()
    }

    private func arm(at due: NIODeadline) {
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: due) { [weak self] in self?.sweep() }
    }

    /// Bounded by the connection's open streams (`max_concurrent_streams`).
    private func sweep() {
        timer = nil
        let now = eventLoop.now
        var expired: [HTTPProxyHandler] = []
        var next: NIODeadline?
        for stream in streams.values {
            let due = stream.lastStreamActivity + timeout
            if due <= now {
                expired.append(stream)
            } else {
                next = next.map { min($0, due) } ?? due
            }
        }
        // Ended after the walk: ending a stream takes it out of `streams`.
        for stream in expired {
            streams[ObjectIdentifier(stream)] = nil
            stream.streamIdleTimedOut()
        }
        if let next { arm(at: next) }
    }
}

@available(*, unavailable)
extension HTTP2StreamIdleSweeper: Sendable {}
