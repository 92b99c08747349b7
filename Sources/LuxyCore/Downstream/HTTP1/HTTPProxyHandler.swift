import LuxyConfig
import NIOCore
import NIOHTTP1

/// The downstream side of one HTTP/1.1 connection, or of one HTTP/2 stream. Each request
/// becomes an `HTTPExchangeDriver`, one at a time: on HTTP/1.1, requests pipelined behind the
/// one being answered wait in order here; an h2 stream carries just one.
///
/// Reads are withheld (backpressure) while a request body piles up with nowhere to go, or
/// while too many pipelined requests wait.
final class HTTPProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// As of the generation serving the current request: a reload may change it.
    private(set) var listener: ListenerConfiguration
    let loop: LoopContext
    private(set) var context: ChannelHandlerContext?
    private var driver: HTTPExchangeDriver?
    private var responseInProgress = false
    private var readsPaused = false
    private var readPending = false
    private var closeAfterResponse = false
    /// The last response went out with `connection: close`: whatever the client pipelined
    /// behind it is not served (it could never get its answer).
    private var isClosing = false
    /// The request being read still has body to come; `answeredOpenRequest` says its answer
    /// already went out (an early local reply), so a parse error must not write a second one.
    private var requestOpen = false
    private var answeredOpenRequest = false
    /// The connection's TLS facts, read from the pipeline once: they can't change after the handshake.
    private var tlsInfo: TLSConnectionInfo?
    /// Idle keep-alive connections close after this. Checked by one timer per connection
    /// rather than NIO's IdleStateHandler, which allocates a promise for every write.
    private let idleTimeout: TimeAmount?
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    /// Parts of requests pipelined behind the one being answered (HTTP/1.1 only).
    private var pipelined = CircularBuffer<HTTPServerRequestPart>()
    private var servingPipelined = false
    /// The request being served asked to switch protocols. NIO's decoder reads no further
    /// request after one, so it may become a tunnel, or else the connection's last request.
    private(set) var upgradeRequested = false
    /// One h2 stream carries one request: keep-alive, `connection: close` and the drain belong
    /// to the HTTP/2 connection (`HTTP2ServerConnection`), not to this handler.
    let isHTTP2Stream: Bool

    init(listener: ListenerConfiguration, loop: LoopContext, isHTTP2Stream: Bool = false, idleTimeout: TimeAmount? = nil) {
        self.listener = listener
        self.loop = loop
        self.isHTTP2Stream = isHTTP2Stream
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if !isHTTP2Stream { loop.connections[ObjectIdentifier(self)] = self }
        if let idleTimeout { scheduleIdleCheck(in: idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        loop.connections[ObjectIdentifier(self)] = nil
        idleCheck?.cancel()
        idleCheck = nil
        self.context = nil
    }

    /// The connection's addresses, read once: NIO guards them with a lock on every access.
    private var cachedAddresses: (local: SocketAddress?, remote: SocketAddress?)?

    private func addresses(_ context: ChannelHandlerContext) -> (local: SocketAddress?, remote: SocketAddress?) {
        if let cachedAddresses { return cachedAddresses }
        let addresses = (context.channel.localAddress, context.channel.remoteAddress)
        cachedAddresses = addresses
        return addresses
    }

    private func scheduleIdleCheck(in delay: TimeAmount) {
        guard let context else { return }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            guard let idleTimeout else { return }
            let quiet = NIODeadline.now() - lastActivity
            if quiet < idleTimeout { return scheduleIdleCheck(in: idleTimeout - quiet) }
            connectionIdle()
            if self.context != nil { scheduleIdleCheck(in: idleTimeout) }
        }
    }

    /// Idle with nothing in flight, or stalled mid-request by the client (a body that stopped
    /// coming): the connection goes. A request waiting on its upstream is bounded by the
    /// cluster's timeout instead.
    private func connectionIdle() {
        guard driver == nil || requestOpen else { return }
        driver?.abort()
        driver = nil
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        if idleTimeout != nil { lastActivity = .now() }
        let part = Self.unwrapInboundIn(data)
        // Pipelining: a request that arrives while the previous one is still being answered
        // waits here, in order (answers must go out in request order).
        if !pipelined.isEmpty || (driver != nil && part.isHead) {
            enqueuePipelined(part)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(var head):
            requestOpen = true
            answeredOpenRequest = false
            // A reload may have removed this listener: finish politely and let the client go.
            // (One it added serves from the pending generation until that is committed.)
            guard let generation = loop.generation(serving: listener.name),
                  let current = generation.listener(named: listener.name), current.proto == .http
            else {
                closeAfterResponse = true
                writeLocalReply(LocalReply.error(.serviceUnavailable, "listener '\(listener.name)' was removed",
                                                 close: true))
                return
            }
            listener = current
            if !isHTTP2Stream, head.headers.contains(name: "expect"),
               head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                // Answered here rather than by the upstream: NIO's client drops a 100, and the
                // client would otherwise wait a second before sending its body.
                head.headers.remove(name: "expect")
                context.writeAndFlush(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                                      promise: nil)
            }
            if !isHTTP2Stream, !head.isKeepAlive || loop.isDraining { closeAfterResponse = true }
            if !isHTTP2Stream, HTTPUpgrade.isUpgradeRequest(head.headers) {
                upgradeRequested = true
                closeAfterResponse = true
            }
            // mTLS `allowed_identities`: refused before routing, so nothing reaches an upstream.
            if listener.tls != nil, tlsInfo == nil { tlsInfo = TLSSetup.connectionInfo(of: context.channel) }
            let tls = listener.tls == nil ? nil : tlsInfo
            if let tls, !tls.identityAllowed {
                loop.stats.increment("downstream_tls_forbidden")
                writeLocalReply(LocalReply.error(.forbidden, "client certificate identity is not allowed"))
                return
            }
            let driver = HTTPExchangeDriver(handler: self, generation: generation, head: head,
                                            local: addresses(context).local, remote: addresses(context).remote)
            driver.exchange.tls = tls
            self.driver = driver
            loop.stats.downstreamRequests += 1
            driver.start()
        case .body(let body):
            driver?.requestBodyPart(body)
        case .end(let trailers):
            requestOpen = false
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
        pipelined.removeAll()
        if driver != nil, !requestOpen {
            // What broke came after a complete request (bytes behind a `connection: close`,
            // say): that request still gets its answer, then the connection closes.
            closeAfterResponse = true
            setReadsPaused(true)
            return
        }
        // Requests still queued behind the one being answered would get their answers after a
        // 400 out of order: the connection just closes.
        let requestsAhead = driver != nil
        driver?.abort()
        driver = nil
        pipelined.removeAll()
        if !responseInProgress, !answeredOpenRequest, !requestsAhead {
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

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        if readsPaused || pipelineFull {
            readPending = true
        } else {
            context.read()
        }
    }

    func setReadsPaused(_ paused: Bool) {
        guard paused != readsPaused else { return }
        readsPaused = paused
        resumeReadingIfAllowed()
    }

    private func resumeReadingIfAllowed() {
        if !readsPaused, !pipelineFull, readPending, let context {
            readPending = false
            context.read()
        }
    }

    // MARK: Pipelining

    /// Reads stop once this many parts wait behind the request being answered.
    private static let maxPipelinedParts = 64

    private var pipelineFull: Bool { pipelined.count >= Self.maxPipelinedParts }

    private func enqueuePipelined(_ part: HTTPServerRequestPart) {
        pipelined.append(part)
    }

    /// The request being answered is done: serve what waited behind it, in order.
    private func servePipelined() {
        guard !servingPipelined, let context else { return }
        servingPipelined = true
        defer { servingPipelined = false }
        while !isClosing, let next = pipelined.first, driver == nil || !next.isHead {
            pipelined.removeFirst()
            handle(next, context: context)
        }
        if isClosing { pipelined.removeAll() }
        resumeReadingIfAllowed()
    }

    // MARK: Writing the response

    func writeResponseHead(_ head: HTTPResponseHead) {
        guard let context else { return }
        var head = head
        if closeAfterResponse, !isHTTP2Stream {
            head.headers.replaceOrAdd(name: "connection", value: "close")
        }
        responseInProgress = true
        context.write(Self.wrapOutboundOut(.head(head)), promise: nil)
    }

    /// The 101 of a WebSocket upgrade: the last HTTP this connection writes, without the
    /// `connection: close` an upgrade request otherwise earns.
    func writeUpgradeResponse(_ head: HTTPResponseHead) {
        context?.writeAndFlush(Self.wrapOutboundOut(.head(head)), promise: nil)
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
        if idleTimeout != nil { lastActivity = .now() }
        if requestOpen { answeredOpenRequest = true }
        let close = closeAfterResponse && !isHTTP2Stream
        if close { isClosing = true }
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
        if !pipelined.isEmpty { servePipelined() }
    }

    /// This response must end the connection (an HTTP/1.0 body delimited by the close).
    func closeAfterThisResponse() {
        closeAfterResponse = true
    }

    /// Graceful shutdown: idle connections close now, busy ones after their response.
    func quiesce() {
        closeAfterResponse = true
        if driver == nil { context?.close(promise: nil) }
    }
}

@available(*, unavailable)
extension HTTPProxyHandler: Sendable {}

extension HTTPServerRequestPart {
    fileprivate var isHead: Bool {
        if case .head = self { return true }
        return false
    }
}

/// A WebSocket tunnel takes the connection over (`HTTPUpgradeTunnel`).
extension HTTPProxyHandler: RemovableChannelHandler {}
