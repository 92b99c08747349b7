import NIOCore

/// The flushes of one event loop's answers (on HTTP/1.1 connections and HTTP/2 streams) and
/// upstream requests, done once per turn of the loop, when it handled every event of the turn
/// (NIO runs the tasks queued during a turn after its events), rather than as each is written.
///
/// A flush is a `write` system call, and the data it sends wakes the peer reading the socket.
/// Waking a sleeping process costs the waker: its kernel interrupts the CPU the peer sleeps on,
/// which in a VM is an exit to the hypervisor. Flushed one by one as a turn's responses were
/// written, a peer that woke for the first could sleep again before the next and be woken
/// again; flushed together at the turn's end, it is woken once for all of them. Measured with
/// the bench's load (64 connections): the proxy's kernel time per request fell by 1.4 to 3.4
/// µs (docs/performance.md), for one queued task per turn.
///
/// A response or request so waits for the rest of its turn at most: the events that were
/// ready with it, as nginx's posted events do. A handler closing its connection flushes it
/// first (`HTTPProxyHandler.closeConnection`), so nothing written is dropped.
///
/// Loop-confined.
final class LoopFlushes {
    private let eventLoop: EventLoop
    /// Written to this turn, to flush at its end: clients their responses, upstreams the
    /// requests.
    private var clients: [ChannelHandlerContext] = []
    private var upstreams: [any UpstreamConnection] = []
    /// The lists being flushed, swapped with the ones above so both keep their capacity.
    private var flushingClients: [ChannelHandlerContext] = []
    private var flushingUpstreams: [any UpstreamConnection] = []
    private enum Turn {
        case nothingToFlush
        /// `flushTask` is queued; it holds this object until it ran.
        case flushScheduled(keptFor: LoopFlushes)
    }
    private var turn = Turn.nothingToFlush
    /// The task a turn queues, made once: queued as it is, it costs no allocation per turn
    /// (a closure made per `execute` was one each, two per request when a turn carries one;
    /// a scheduled callback none, but it retained and released the loop and the handler in
    /// NIO's timer queue some forty times a turn). It does not retain this object, which owns
    /// it: `turn` does while it is queued. (A weak capture gave this object a side table, and
    /// every retain and release of it took the runtime's slow path, six a request.)
    private var flushTask: () -> Void = {}

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
        flushTask = { [unowned(unsafe) self] in self.flushAll() }
    }

    /// `client`'s writes go out at the end of this turn. Once per connection and turn where
    /// its answers come one after another (pipelined requests answered in one read).
    func flushAtEndOfTurn(_ client: ChannelHandlerContext) {
        if clients.last !== client { clients.append(client) }
        scheduleFlush()
    }

    /// `upstream`'s writes go out at the end of this turn.
    func flushAtEndOfTurn(_ upstream: any UpstreamConnection) {
        if upstreams.last !== upstream { upstreams.append(upstream) }
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard case .nothingToFlush = turn else { return }
        turn = .flushScheduled(keptFor: self)
        eventLoop.assumeIsolated().execute(flushTask)
    }

    private func flushAll() {
        // What kept this object alive for the task keeps it until the flushes are done.
        guard case .flushScheduled(let kept) = turn else { return }
        defer { withExtendedLifetime(kept) {} }
        // Taken out first: what a flush sets off (a write making room for more) is written to
        // the lists again, and flushed at the end of the next turn.
        turn = .nothingToFlush
        swap(&upstreams, &flushingUpstreams)
        swap(&clients, &flushingClients)
        // Requests first: the upstreams start on them while the clients are written to.
        for upstream in flushingUpstreams { upstream.flush() }
        for client in flushingClients { client.flush() }
        flushingUpstreams.removeAll(keepingCapacity: true)
        flushingClients.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension LoopFlushes: Sendable {}
