import NIOCore
import NIOHTTP1

/// An HTTP/1.1 connection after its upstream answered a WebSocket upgrade with 101: the HTTP
/// codecs leave both pipelines and the bytes pass as they are, both ways, with the tcp
/// listeners' glue (`TCPSideHandler`) — backpressure and half-close, but no stages (the
/// request's stages ran on the handshake).
///
/// Reads on a side are withheld while the other side is not writable, so what the proxy
/// holds stays near one read burst plus a channel's write high-water mark.
///
/// It holds no generation: once the exchange that asked for it ends, that generation's Lua
/// VM and pools may go with a reload while the tunnel lives on. It keeps only its two
/// channels (through their side handlers) and the loop, to count and to drain.
///
/// Only touched on its loop.
final class HTTPUpgradeTunnel {
    private enum State {
        /// The HTTP decoders are leaving the pipelines. What arrives meanwhile (their
        /// leftovers, mostly) is held, in order, and relayed once they are gone.
        case decodersLeaving(held: [SideInput])
        case relaying(ended: EndedInputs)
        case closed
    }

    /// What one side sent while the decoders were leaving.
    private struct SideInput {
        let side: TCPSide
        let input: HeldInput
    }

    private let loop: LoopContext
    private let downstream = TCPSideHandler(side: .downstream)
    private let upstream = TCPSideHandler(side: .upstream)
    private var state = State.decodersLeaving(held: [])

    init(loop: LoopContext) {
        self.loop = loop
    }

    private var stats: ProxyStats { loop.stats }

    /// Takes both connections over. The 101 is written and flushed already, the exchange over.
    func open(downstream client: HTTPProxyHandler, upstream connection: UpstreamConnectionHandler) {
        guard let clientChannel = client.context?.channel, let upstreamChannel = connection.detachForTunnel() else {
            client.context?.close(promise: nil)
            connection.abandon()
            return finish(abort: true)
        }
        downstream.session = self
        upstream.session = self
        let decodersGone: EventLoopFuture<Void>
        do {
            // Side handlers first, codecs last: removing a decoder hands on what it held back
            // (bytes sent behind the request or the 101), and they must find a tunnel.
            let client = clientChannel.pipeline.syncOperations
            client.removeIfPresent(HTTPProxyHandler.self)
            // Passing every byte on by now (an upgrade request is NIO's decoder's to read).
            client.removeIfPresent(RequestFastPath.self)
            try client.addHandler(downstream)
            let requestDecoderGone = client.removeIfPresent(ByteToMessageHandler<HTTPRequestDecoder>.self)
            try clientChannel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)

            let server = upstreamChannel.pipeline.syncOperations
            server.removeIfPresent(UpstreamConnectionHandler.self)
            // Passing every byte on by now (a 101 is NIO's decoder's to read): not needed.
            server.removeIfPresent(UpstreamResponseFastPath.self)
            try server.addHandler(upstream)
            let responseDecoderGone = server.removeIfPresent(ByteToMessageHandler<UpstreamResponseDecoder>.self)
            decodersGone = requestDecoderGone.and(responseDecoderGone).map { _ in }
            try upstreamChannel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
            // Paused at the 101; from here the side handler decides when to read.
            try upstreamChannel.syncOptions?.setOption(.autoRead, value: true)
        } catch {
            clientChannel.close(promise: nil)
            upstreamChannel.close(promise: nil)
            return finish(abort: true)
        }
        loop.connections[ObjectIdentifier(downstream)] = downstream
        // Either side may have gone while the response stages ran.
        guard clientChannel.isActive else { return channelClosed(.downstream) }
        guard upstreamChannel.isActive else { return channelClosed(.upstream) }
        decodersGone.assumeIsolated().whenComplete { [self] _ in ready() }
    }

    private func ready() {
        guard case .decodersLeaving(let held) = state else { return }
        state = .relaying(ended: [])
        for item in held {
            switch item.input {
            case .bytes(let bytes): received(bytes, from: item.side)
            case .end: inputClosed(item.side)
            }
        }
        downstream.startReading()
        upstream.startReading()
        updateReading()
    }

    private func other(_ side: TCPSide) -> TCPSideHandler {
        side == .downstream ? upstream : downstream
    }

    private func updateReading() {
        guard case .relaying(let ended) = state else { return }
        downstream.setReading(ended.isOpen(.downstream) && upstream.isWritable)
        upstream.setReading(ended.isOpen(.upstream) && downstream.isWritable)
    }

    /// Closes both sides (after what was written is sent, unless `abort`). Once.
    private func finish(abort: Bool) {
        if case .closed = state { return }
        state = .closed
        downstream.close(abort: abort)
        upstream.close(abort: abort)
        downstream.session = nil
        upstream.session = nil
        loop.connections[ObjectIdentifier(downstream)] = nil
    }
}

extension HTTPUpgradeTunnel: TCPSideDelegate {
    func downstreamReady(tls: TLSConnectionInfo?, serverName: String?) {}

    func received(_ bytes: ByteBuffer, from side: TCPSide) {
        switch state {
        case .decodersLeaving(var held):
            held.append(SideInput(side: side, input: .bytes(bytes)))
            state = .decodersLeaving(held: held)
        case .relaying:
            other(side).write(bytes)
            updateReading()
        case .closed:
            break
        }
    }

    func inputClosed(_ side: TCPSide) {
        switch state {
        case .decodersLeaving(var held):
            held.append(SideInput(side: side, input: .end))
            state = .decodersLeaving(held: held)
        case .relaying(var ended):
            guard ended.end(side) else { return }
            state = .relaying(ended: ended)
            if ended == .both { return finish(abort: false) }
            other(side).shutdownOutput()
            updateReading()
        case .closed:
            break
        }
    }

    /// One side is gone entirely: nothing can answer it any more, so the other side gets what
    /// was already written to it and closes.
    func channelClosed(_ side: TCPSide) {
        finish(abort: false)
    }

    func writabilityChanged() {
        updateReading()
    }
}

@available(*, unavailable)
extension HTTPUpgradeTunnel: Sendable {}

extension ChannelPipeline.SynchronousOperations {
    /// Succeeds once the handler left (some, like decoders, leave on a later tick).
    @discardableResult
    fileprivate func removeIfPresent<Handler: RemovableChannelHandler>(_ type: Handler.Type) -> EventLoopFuture<Void> {
        guard let context = try? context(handlerType: type) else { return eventLoop.makeSucceededVoidFuture() }
        return removeHandler(context: context)
    }
}
