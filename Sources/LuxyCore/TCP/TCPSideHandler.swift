import NIOCore
import NIOTLS

/// The last handler of either side of a proxied TCP connection (the client's channel or the
/// upstream's). It hands bytes and half-closes to its session (`TCPSideDelegate`) and lets
/// the session withhold reads, which is how a slow reader on one side slows the other side
/// down.
final class TCPSideHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let side: TCPSide
    var session: (any TCPSideDelegate)?
    private(set) var context: ChannelHandlerContext?
    /// Over TLS the handshake beneath needs reads, and a downstream side is ready only once
    /// it completed.
    private let overTLS: Bool
    /// Reads start withheld: nothing may arrive before the session is ready for it (over TLS
    /// the session withholds them itself once it takes over).
    private var reads: Reads
    /// Bytes written and not yet handed to the kernel: this side's share of what the proxy
    /// holds in memory.
    private(set) var unsentBytes = 0
    private var output = Output.open

    enum Reads {
        case flowing
        /// The session holds reads back; `readAsked`: the channel asked for one meanwhile,
        /// which is made when reads flow again.
        case withheld(readAsked: Bool)
    }

    enum Output {
        case open
        /// Shut once what was written is sent (a half-close must not drop what is queued).
        case shutWhenSent
        /// Shut, or closing: nothing more is written.
        case shut
    }

    /// A passthrough listener routing by SNI: reads flow until the ClientHello named a server
    /// (`serverNameInspected`), which makes the downstream ready.
    private let inspectsServerName: Bool

    init(side: TCPSide, overTLS: Bool = false, inspectsServerName: Bool = false) {
        self.side = side
        self.overTLS = overTLS
        self.inspectsServerName = inspectsServerName
        self.reads = overTLS || inspectsServerName ? .flowing : .withheld(readAsked: false)
    }

    /// The TLS ClientHello of a passthrough connection was read (`nil`: no server name in it).
    func serverNameInspected(_ name: String?) {
        session?.downstreamReady(tls: nil, serverName: name)
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        if side == .downstream, !overTLS, !inspectsServerName { session?.downstreamReady(tls: nil, serverName: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session?.received(Self.unwrapInboundIn(data), from: side)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            session?.inputClosed(side)
            return
        }
        if side == .downstream, overTLS, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            // Half-close only from here: NIOSSL closing a refused peer with it on would wait
            // out its 5 s shutdown timeout after the peer left.
            try? context.channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
            let tls = TLSSetup.connectionInfo(of: context.channel)
            session?.downstreamReady(tls: tls, serverName: tls?.serverName)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session?.writabilityChanged()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session?.channelClosed(side)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A reset or a failed write: nothing more can be trusted on this connection.
        context.close(promise: nil)
    }

    // MARK: Reads

    func read(context: ChannelHandlerContext) {
        switch reads {
        case .withheld: reads = .withheld(readAsked: true)
        case .flowing: context.read()
        }
    }

    func setReading(_ reading: Bool) {
        switch (reads, reading) {
        case (.withheld(let readAsked), true):
            reads = .flowing
            if readAsked { context?.read() }
        case (.flowing, false):
            reads = .withheld(readAsked: false)
        case (.flowing, true), (.withheld, false):
            return
        }
    }

    /// Reads from now on, asking for one at once: a handler removed from before this one (an
    /// HTTP codec, for a tunnel) may have swallowed the read the channel had asked for.
    func startReading() {
        reads = .flowing
        context?.read()
    }

    // MARK: Writes

    func write(_ bytes: ByteBuffer) {
        guard let context, case .open = output else { return }
        let count = bytes.readableBytes
        unsentBytes += count
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in
            unsentBytes -= count
            if unsentBytes == 0, case .shutWhenSent = output { shutdownOutputNow() }
        }
        context.writeAndFlush(Self.wrapOutboundOut(bytes), promise: promise)
    }

    /// Half-close: once what was written is sent, the peer reads end-of-stream.
    func shutdownOutput() {
        guard case .open = output else { return }
        if unsentBytes == 0 {
            shutdownOutputNow()
        } else {
            // Closing the output of a channel whose input is closed already is a full close,
            // which would drop what is still queued: wait until it is sent.
            output = .shutWhenSent
        }
    }

    private func shutdownOutputNow() {
        output = .shut
        context?.close(mode: .output, promise: nil)
    }

    /// Full close once what was written is sent (a clean end), or at once (`abort`).
    func close(abort: Bool) {
        guard let context else { return }
        if abort || unsentBytes == 0 {
            context.close(promise: nil)
            return
        }
        output = .shut
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer()), promise: promise)
    }
}

@available(*, unavailable)
extension TCPSideHandler: Sendable {}

extension TCPSideHandler: DrainableConnection {
    /// A byte stream has no boundary to stop at: a draining proxy lets the connection run
    /// until it ends or the drain time is up (then `context` is closed).
    func quiesce() {}
}
