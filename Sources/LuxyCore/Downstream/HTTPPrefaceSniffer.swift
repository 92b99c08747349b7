import NIOCore

/// Tells h2c-with-prior-knowledge from HTTP/1.1 on a plain port by the first bytes, installs
/// the matching handlers behind itself, hands them what it read, and leaves.
///
/// It decides as soon as a byte differs from the HTTP/2 preface, so an HTTP/1.1 request
/// ("GET", "POST", …) costs at most two bytes of looking; only a true preface waits for all
/// 24 bytes. A client that connects and sends nothing (or a part of the preface) is closed
/// after `timeout` (the request header timeout), since the handlers of either protocol are
/// not there yet to bound it; counted as `downstream_preface_timeout`.
///
/// Loop-confined: it runs on the connection's event loop.
final class HTTPPrefaceSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let timeout: TimeAmount
    private let stats: ProxyStats
    private let configure: (_ isHTTP2: Bool, ChannelPipeline.SynchronousOperations) throws -> Void
    private var buffered: ByteBuffer?
    private var decided = false
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, stats: ProxyStats,
         configure: @escaping (_ isHTTP2: Bool, ChannelPipeline.SynchronousOperations) throws -> Void) {
        self.timeout = timeout
        self.stats = stats
        self.configure = configure
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let stats = self.stats
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            stats.increment("downstream_preface_timeout")
            context.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        guard !decided else { return context.fireChannelRead(data) }
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        guard let verdict = Self.verdict(buffered!) else { return }
        decided = true
        timer?.cancel()
        timer = nil
        do {
            try configure(verdict, context.pipeline.syncOperations)
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
            return
        }
        let bytesSeen = buffered!
        buffered = nil
        context.fireChannelRead(Self.wrapInboundOut(bytesSeen))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// true: HTTP/2 preface; false: anything else; nil: too few bytes to tell yet.
    static func verdict(_ buffer: ByteBuffer) -> Bool? {
        let count = min(buffer.readableBytes, preface.count)
        guard let seen = buffer.getBytes(at: buffer.readerIndex, length: count) else { return nil }
        for index in 0..<count where seen[index] != preface[index] { return false }
        return count == preface.count ? true : nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension HTTPPrefaceSniffer: Sendable {}
