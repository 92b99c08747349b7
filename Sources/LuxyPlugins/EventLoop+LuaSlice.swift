import NIOCore

extension EventLoop {
    /// Runs the next slice of a Lua phase once the loop has polled its sockets. `execute`
    /// would not do: NIO runs the tasks that tasks add in the same tick, before any I/O, so
    /// a phase resumed that way would hold the loop for its whole budget after all. A task
    /// due a moment from now is not ready when the loop looks again right after this slice,
    /// so the loop polls (and serves its other connections) first.
    public func continueLuaPhase(_ work: @escaping () -> Void) {
        assumeIsolated().scheduleTask(in: Self.luaSlicePause) { work() }
    }

    /// Short against a slice (milliseconds): a phase that spends a budget of 10,000,000
    /// instructions in 40 slices waits 4 ms in all for it.
    public static var luaSlicePause: TimeAmount { .microseconds(100) }
}
