/// Where a head fast path (`RequestFastPath`, `UpstreamResponseFastPath`) stands in its
/// connection's byte stream. It only ever hands the stream to NIO's decoder between two
/// messages, so the decoder starts at a message's first byte.
///
/// A value held by one fast-path handler, on its connection's loop.
enum HTTP1FastPathState {
    /// Between messages: the next byte begins one.
    case betweenMessages
    /// A message's head went on; this many bytes of its body are still to come.
    case body(remaining: Int)
    /// NIO's decoder reads the connection from now on.
    case decoder
}
