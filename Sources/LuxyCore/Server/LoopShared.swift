import NIOCore

/// What one event loop's HTTP/1.1 connections share, client and upstream alike: the buffers
/// message heads are encoded into, and the loop's clock, which a response's end and its
/// upstream connection's return to the pool read once between them. Made once per loop
/// (`LoopContext`) and handed down to the upstream side with it: registry, cluster, pool,
/// connection.
///
/// A value of two references; what they refer to is confined to the loop.
struct LoopShared {
    let headBuffer: ReusedHeadBuffer
    let clock: LoopClock

    init(eventLoop: EventLoop) {
        headBuffer = ReusedHeadBuffer()
        clock = LoopClock(eventLoop: eventLoop)
    }
}
