import NIOCore

/// The bytes of a request head that goes upstream as the client sent it, completed with the
/// forwarding fields and the blank line (`UpstreamRequestHead.forwarded`), and how its body
/// is framed: no `HTTPRequestHead` is prepared or encoded for it.
///
/// A value made and written on the connection's loop.
struct ForwardedRequestHead {
    /// A buffer of the loop's `ReusedHeadBuffer`.
    var bytes: ByteBuffer
    var framing: HTTP1BodyFraming
}
