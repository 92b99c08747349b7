import NIOCore

/// What a side sent while its relay could not pass it on yet, kept in order
/// (`TCPProxySession` before its upstream connected, `HTTPUpgradeTunnel` while the HTTP
/// decoders leave).
///
/// A value held by one relay, on its loop.
enum HeldInput {
    case bytes(ByteBuffer)
    /// The side stopped sending.
    case end
}
