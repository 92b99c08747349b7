import NIOCore

/// What a `TCPSideHandler` reports to: a proxied tcp connection (`TCPProxySession`, with
/// stages) or an upgraded HTTP connection (`HTTPUpgradeTunnel`, bytes only).
protocol TCPSideDelegate: AnyObject {
    /// The client's connection is ready for the proxy: active, on a TLS listener with its
    /// handshake completed (`tls` says what it settled), on an SNI-routed passthrough
    /// listener with its ClientHello read (`serverName`).
    func downstreamReady(tls: TLSConnectionInfo?, serverName: String?)
    func received(_ bytes: ByteBuffer, from side: TCPSide)
    /// The peer on `side` half-closed (shut its output).
    func inputClosed(_ side: TCPSide)
    /// `side`'s channel closed entirely.
    func channelClosed(_ side: TCPSide)
    func writabilityChanged()
}
