import NIOHTTP1

/// A response head as the upstream side hands it on: made into an `HTTPResponseHead` for an
/// exchange whose stages read or change it, or kept as the bytes that go to the client
/// (`ForwardedResponseHead`) for one where nothing does. The fast path and the connection
/// handler carry either the same way; only the receiver tells them apart.
///
/// A value made and read on the upstream connection's loop.
enum ReceivedResponseHead {
    case parsed(HTTPResponseHead)
    case forwarded(ForwardedResponseHead)
}
