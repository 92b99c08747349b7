import NIOCore
import NIOHTTP1

/// An upstream response head that goes to the client as it came, never made into an
/// `HTTPResponseHead`: on an exchange nothing reads or changes it on the way (no stage, no
/// route edit, no retry policy; `HTTPExchangeDriver.forwardsResponseHeadAsItCame`). Its fields
/// are copied from the upstream's bytes with their hop-by-hop fields left out
/// (`UpstreamResponseHeadParser.parseForwarding`), so no string is made for a field, no
/// header list is built, and the head is not encoded again.
///
/// A value made on the upstream connection's loop and written on the same loop (the client
/// connection's).
struct ForwardedResponseHead {
    var status: HTTPResponseStatus
    /// The status line (HTTP/1.1, the standard reason) and the fields, each line with its
    /// CRLF; the blank line that ends the head is not written yet, so the client's side can
    /// add `connection: close`. A buffer of the loop's `ReusedHeadBuffer`, handed back to it
    /// once the head is complete.
    var bytes: ByteBuffer
}
