import NIOCore

/// A pooled connection and since when it idles.
struct IdleUpstreamConnection {
    let connection: UpstreamConnectionHandler
    let since: NIODeadline
}

/// The cluster's `idle_timeout`: a pooled connection unused that long is closed, so a quiet
/// endpoint is not held on to forever (nor reused after its own keep-alive timeout, likely
/// shorter, closed it). One timer per pool, armed only while connections idle, for the
/// oldest of them: a busy pool reuses connections long before and schedules nothing per
/// request. Runs on the pool's loop.
extension UpstreamPool {
    func scheduleIdleSweep() {
        guard let oldest = idle.first else { return }
        // Strong: the pool stays until the sweep ran or `close` cancelled it. A weak capture
        // gave the pool a side table, and every retain and release of it (five a request) then
        // took the runtime's slow path.
        idleSweep = eventLoop.assumeIsolated().scheduleTask(deadline: oldest.since + idleTimeout) { [self] in
            sweepIdle()
        }
    }

    private func sweepIdle() {
        idleSweep = nil
        let cutoff = eventLoop.now - idleTimeout
        // Released in order, so the expired ones are at the front.
        let expired = idle.prefix { $0.since <= cutoff }
        guard !expired.isEmpty else { return scheduleIdleSweep() }
        idle.removeFirst(expired.count)
        stats?.increment("upstream_cx_idle_timeout", by: expired.count)
        for entry in expired { entry.connection.channel?.close(promise: nil) }
        scheduleIdleSweep()
    }
}
