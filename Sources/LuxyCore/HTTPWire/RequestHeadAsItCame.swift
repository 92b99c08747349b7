import NIOCore

/// A client's request head as its bytes came, kept for the upstream when it may go there
/// unchanged but for the forwarding fields (`UpstreamRequestHead.forwarded`): read by
/// `RequestHeadParser` as HTTP/1.1, with no hop-by-hop field to drop, no `x-forwarded-for` to
/// append to, no `expect` to answer here, and a `content-length` wherever the upstream
/// request needs one. Whether nothing changes it on the way (a stage, a route edit, a retry)
/// is the exchange's to say. Its bytes go on as they came: a field value that is not UTF-8
/// too, which a string made of it would carry with replacement characters.
///
/// A slice of the client's read buffer: held only until the request goes upstream, since it
/// keeps that buffer from being reused for the next read. A value made and read on one loop.
struct RequestHeadAsItCame {
    /// The request line and the fields, each line with its CRLF; not the blank line.
    var bytes: ByteBuffer
    var hasForwardedProto: Bool
    var hasContentLength: Bool
}
