import LuxyConfig
import NIOCore
import NIOHTTP1

/// The downstream side of one HTTP/1.1 connection. NIO's pipelining handler in front of it
/// hands over one request at a time; each becomes an `HTTPExchangeDriver`.
///
/// Reads are withheld (backpressure) while a request body piles up with nowhere to go.
final class HTTPProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let listener: ListenerConfiguration
    let loop: LoopContext
    private(set) var context: ChannelHandlerContext?
    private var driver: HTTPExchangeDriver?
    private var responseInProgress = false
    private var readsPaused = false
    private var readPending = false
    private var closeAfterResponse = false

    init(listener: ListenerConfiguration, loop: LoopContext) {
        self.listener = listener
        self.loop = loop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loop.connections[ObjectIdentifier(self)] = self
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        loop.connections[ObjectIdentifier(self)] = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            // A reload may have removed this listener: finish politely and let the client go.
            guard let generation = loop.generation, generation.routers[listener.name] != nil else {
                closeAfterResponse = true
                writeLocalReply(LocalReply.error(.serviceUnavailable, "listener '\(listener.name)' was removed",
                                                 close: true))
                return
            }
            if !head.isKeepAlive || loop.isDraining { closeAfterResponse = true }
            let driver = HTTPExchangeDriver(handler: self, generation: generation, head: head,
                                            local: context.channel.localAddress,
                                            remote: context.channel.remoteAddress)
            self.driver = driver
            loop.stats.increment("downstream_requests")
            driver.start()
        case .body(let body):
            driver?.requestBodyPart(body)
        case .end(let trailers):
            driver?.requestEnded(trailers)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        // The decoder is broken for this connection: answer if we still can, then close.
        // Nothing reaches the upstream, since a request is only forwarded once its head parsed.
        loop.stats.increment("downstream_bad_requests")
        driver?.abort()
        driver = nil
        if !responseInProgress {
            let reply: (head: HTTPResponseHead, body: ByteBuffer)
            if case .headerOverflow = parserError {
                reply = LocalReply.error(.requestHeaderFieldsTooLarge, "request headers too large", close: true)
            } else {
                reply = LocalReply.error(.badRequest, "malformed request: \(parserError)", close: true)
            }
            closeAfterResponse = true
            writeLocalReply(reply)
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver?.abort()
        driver = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        driver?.downstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .all, driver == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    func setReadsPaused(_ paused: Bool) {
        guard paused != readsPaused else { return }
        readsPaused = paused
        if !paused, readPending, let context {
            readPending = false
            context.read()
        }
    }

    // MARK: Writing the response

    func writeResponseHead(_ head: HTTPResponseHead) {
        guard let context else { return }
        var head = head
        if closeAfterResponse {
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        responseInProgress = true
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
    }

    func writeResponseBody(_ body: ByteBuffer, flush: Bool = true) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        } else {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
    }

    func writeResponseEnd(_ trailers: HTTPHeaders?) {
        guard let context else { return }
        responseInProgress = false
        let close = closeAfterResponse
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(trailers)))
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func writeLocalReply(_ reply: (head: HTTPResponseHead, body: ByteBuffer)) {
        writeResponseHead(reply.head)
        if reply.body.readableBytes > 0 { writeResponseBody(reply.body, flush: false) }
        writeResponseEnd(nil)
    }

    /// The response can't be finished (upstream broke mid-body): the client must see a cut.
    func abortResponse() {
        responseInProgress = false
        context?.close(promise: nil)
    }

    func exchangeFinished(_ finished: HTTPExchangeDriver) {
        if driver === finished { driver = nil }
    }

    /// Graceful shutdown: idle connections close now, busy ones after their response.
    func quiesce() {
        closeAfterResponse = true
        if driver == nil { context?.close(promise: nil) }
    }
}

@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}
