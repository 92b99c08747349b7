import LuxyConfig
import NIOCore
import NIOHTTP1

/// The downstream side of one HTTP/1.1 connection, or of one HTTP/2 stream. Each request
/// becomes an `HTTPExchangeDriver`, one at a time: on HTTP/1.1, requests pipelined behind the
/// one being answered wait in order here; an h2 stream carries just one.
///
/// On HTTP/1.1 responses leave as bytes (`HTTP1ResponseEncoder`), with no encoder handler in
/// between; an h2 stream hands NIO's HTTP/2 codec response parts.
///
/// Reads are withheld (backpressure) while a request body piles up with nowhere to go, or
/// while too many pipelined requests wait. One timer per connection serves every bound on
/// the client (idle, request head, request body, send) and the request timeout of the
/// exchange waiting on its upstream (`ConnectionDeadlines`, `HTTPProxyHandler+Deadlines`).
///
/// Loop-confined: all of it runs on the connection's (or h2 stream's) event loop.
final class HTTPProxyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether the connection carries another request after the current answer.
    enum Persistence {
        case keepAlive
        /// The answer in progress (or the next one) is the last: it says `connection: close`.
        case closeAfterResponse
        /// The last answer went out: whatever the client pipelined behind it is not served
        /// (it could never get its answer).
        case closing
    }

    /// `Expect: 100-continue` on the request being served. The `100 Continue` goes out only
    /// when the body is first needed (a stage asks for it, or it starts going upstream), as
    /// nginx does, so a request refused from its head alone (413 from its declared length)
    /// never gets one.
    enum ContinueExpectation {
        case none
        /// The client waits for a `100 Continue` before it sends its body.
        case pending
        case sent
    }

    /// Whether the socket read that is being delivered produced any request part: one that
    /// did not, between requests, means a request head has begun.
    enum ReadBurst {
        case quiet
        case carriedParts
    }

    /// The request being read, as far as its body goes.
    enum RequestReading {
        /// No request, or its body ended.
        case complete
        /// Its body is still coming.
        case body
        /// Its body is still coming but its answer already went out (an early local reply),
        /// so a parse error must not write a second one.
        case bodyAfterAnswer
    }

    /// As of the generation serving the current request: a reload may change it.
    private(set) var listener: ListenerConfiguration
    let loop: LoopContext
    private(set) var context: ChannelHandlerContext?
    /// Where the connection's writes, flushes and reads start. On an HTTP/1.1 connection, the
    /// context of its first HTTP handler (`RequestFastPath`'s, set by `HTTPProxyPipeline`):
    /// they go straight on to the socket (or TLS) from there, rather than through the
    /// contexts of NIO's decoder and the fast path, which do nothing with them and cost a
    /// pipeline hop each way. On an h2 stream, this handler's own, in front of the h2 codec.
    var outbound: ChannelHandlerContext?
    /// The channel's, read once: each read through the channel costs a pipeline and a
    /// channel hop, with their reference counting.
    private(set) var allocator = ByteBufferAllocator()
    var driver: HTTPExchangeDriver?
    var persistence = Persistence.keepAlive
    var reading = RequestReading.complete
    /// Between a response head and its end.
    var responseInProgress = false
    private var readGate = ReadGate()
    /// The connection's TLS facts, read from the pipeline once: they can't change after the handshake.
    private var tlsInfo: TLSConnectionInfo?
    /// What this connection serves with, resolved once per generation rather than per request.
    private var serving: ListenerServing?
    /// The connection's addresses and the client's address text, read once: NIO guards the
    /// addresses with a lock on every access.
    private var peer: ConnectionPeer?
    /// A request part waiting behind the one being answered; a head the fast path read keeps
    /// what it learned of it, so that it is served as it would have been at once (its
    /// fields are not scanned, nor its keep-alive read another way).
    struct PipelinedPart {
        var part: HTTPServerRequestPart
        var facts: RequestHeadFacts?
    }

    /// Parts of requests pipelined behind the one being answered (HTTP/1.1 only).
    /// Starts small: most connections never pipeline, and an idle one should cost little.
    var pipelined = CircularBuffer<PipelinedPart>(initialCapacity: 2)
    /// Set while queued requests are being served, so a request finishing inside that loop
    /// does not start a second one.
    private var servingPipelined = false
    /// The request being served asked to switch protocols. NIO's decoder reads no further
    /// request after one, so it may become a tunnel, or else the connection's last request.
    private(set) var upgradeRequested = false
    /// The method of the request being answered: a HEAD's answer has no body.
    private(set) var requestMethod = HTTPMethod.GET
    private(set) var requestVersion = HTTPVersion.http1_1
    /// Its state is the framing of the response being written (`HTTPProxyHandler+Response`).
    var encoder: HTTP1ResponseEncoder
    var deadlines: ConnectionDeadlines
    var continueExpectation = ContinueExpectation.none
    private var readBurst = ReadBurst.quiet
    /// One h2 stream carries one request: keep-alive, `connection: close` and the drain belong
    /// to the HTTP/2 connection (`HTTP2ServerConnection`), not to this handler.
    let isHTTP2Stream: Bool
    /// An h2 stream's deadlines (idle, upstream request timeout), kept by its connection: one
    /// timer for all its streams, none per stream.
    let streamDeadlines: HTTP2StreamDeadlines?
    /// When the h2 stream last read a request part or wrote a response part.
    var lastStreamActivity: NIODeadline

    /// `opened`: when the clock of the first request's head starts (the connection's start,
    /// or the end of its TLS handshake); now when nil.
    init(listener: ListenerConfiguration, loop: LoopContext, isHTTP2Stream: Bool = false,
         timeouts: DownstreamTimeouts = .none, opened: NIODeadline? = nil,
         streamDeadlines: HTTP2StreamDeadlines? = nil, peer: ConnectionPeer? = nil) {
        self.listener = listener
        self.peer = peer
        self.loop = loop
        self.encoder = HTTP1ResponseEncoder(headBuffer: loop.headBuffer)
        self.isHTTP2Stream = isHTTP2Stream
        self.streamDeadlines = streamDeadlines
        let now = loop.clock.now
        self.lastStreamActivity = now
        self.deadlines = ConnectionDeadlines(timeouts: timeouts, opened: opened ?? now)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        outbound = context
        allocator = context.channel.allocator
        if !isHTTP2Stream { loop.connections[ObjectIdentifier(self)] = self }
        streamDeadlines?.streamOpened(self, at: lastStreamActivity)
        armTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        loop.connections[ObjectIdentifier(self)] = nil
        streamDeadlines?.streamClosed(self)
        deadlines.cancelTimer()
        self.context = nil
        // The driver and the fast path in front hold this handler strongly: letting go of
        // them here ends both cycles, whatever removed the handler (the channel closing, an
        // upgrade handing the connection to a tunnel).
        outbound = nil
        driver = nil
    }

    private func peer(_ context: ChannelHandlerContext) -> ConnectionPeer {
        if let peer { return peer }
        let peer = ConnectionPeer(local: context.channel.localAddress, remote: context.channel.remoteAddress)
        self.peer = peer
        return peer
    }

    // MARK: Reading requests

    /// What NIO's decoder read (the requests the fast path handed over).
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(Self.unwrapInboundIn(data), context: context)
    }

    /// A request part `RequestFastPath` read from the bytes in front of the decoder; a head
    /// comes with what the fast path learned of it.
    func receive(_ part: consuming HTTPServerRequestPart, facts: RequestHeadFacts? = nil) {
        guard let context else { return }
        receive(consume part, facts: facts, context: context)
    }

    private func receive(_ part: consuming HTTPServerRequestPart, facts: RequestHeadFacts? = nil,
                         context: ChannelHandlerContext) {
        guard persistence != .closing else { return }
        if case .quiet = readBurst { readBurst = .carriedParts }
        let now = loop.clock.now
        clientSent(part, at: now)
        if streamDeadlines != nil { lastStreamActivity = now }
        // Pipelining: a request that arrives while the previous one is still being answered
        // waits here, in order (answers must go out in request order).
        if !pipelined.isEmpty || (driver != nil && part.isHead) {
            pipelined.append(PipelinedPart(part: consume part, facts: facts))
            return
        }
        handle(consume part, facts: facts, context: context)
    }

    /// `part` is taken, not borrowed: the request stages run within this call, and the head
    /// they change must be the only copy (a field added to a shared one copies them all).
    /// `facts`: what the fast path learned of a head's fields; nil when they must be scanned.
    private func handle(_ part: consuming HTTPServerRequestPart, facts: RequestHeadFacts? = nil,
                        context: ChannelHandlerContext) {
        switch consume part {
        case .head(var head):
            reading = .body
            requestMethod = head.method
            requestVersion = head.version
            // A reload may have removed this listener: finish politely and let the client go.
            // (One it added serves from the pending generation until that is committed.)
            guard let serving = currentServing() else {
                persistence = .closeAfterResponse
                writeLocalReply(LocalReply.error(.serviceUnavailable, "listener '\(listener.name)' was removed",
                                                 close: true))
                return
            }
            // Edge validation before anything else reads the head: nothing refused here reaches
            // a stage, the router or an upstream.
            if let rejection = serving.validator.validate(&head, isHTTP2: isHTTP2Stream, surveyed: facts?.fields) {
                loop.stats.increment("downstream_bad_requests")
                loop.stats.increment(rejection.counter)
                persistence = .closeAfterResponse
                writeLocalReply(LocalReply.error(rejection.status, rejection.reason, close: !isHTTP2Stream))
                return
            }
            let framing = facts?.framing ?? RequestFraming(head.headers, version: head.version, isHTTP2: isHTTP2Stream)
            // Answered here rather than by the upstream (NIO's client drops a 100), once the
            // body is needed (`requestBodyNeeded`).
            continueExpectation = framing.expectsContinue ? .pending : .none
            if framing.expectsContinue { head.headers.remove(name: "expect") }
            if !isHTTP2Stream, !(facts?.keepAlive ?? head.isKeepAlive) || loop.isDraining {
                persistence = .closeAfterResponse
            }
            upgradeRequested = framing.isUpgrade
            if framing.isUpgrade { persistence = .closeAfterResponse }
            // mTLS `allowed_identities`: refused before routing, so nothing reaches an upstream.
            if listener.tls != nil, tlsInfo == nil { tlsInfo = TLSSetup.connectionInfo(of: context.channel) }
            let tls = listener.tls == nil ? nil : tlsInfo
            if let tls, !tls.identityAllowed {
                loop.stats.increment("downstream_tls_forbidden")
                writeLocalReply(LocalReply.error(.forbidden, "client certificate identity is not allowed"))
                return
            }
            let driver = HTTPExchangeDriver(handler: self, serving: serving, head: consume head, framing: framing,
                                            peer: peer(context), headAsItCame: facts?.asItCame)
            driver.exchange.tls = tls
            self.driver = driver
            loop.stats.downstreamRequests += 1
            driver.start()
        case .body(let body):
            driver?.requestBodyPart(body)
        case .end(let trailers):
            reading = .complete
            driver?.requestEnded(trailers)
        }
    }

    /// The listener, router and chain of the generation that serves this listener now.
    private func currentServing() -> ListenerServing? {
        // The usual case, without looking the listener up by name: the connection's serving
        // belongs to the current generation, which then serves its listener.
        if let serving, let current = loop.generation, serving.generationBuild == current.build { return serving }
        guard let generation = loop.generation(serving: listener.name) else { return nil }
        if let serving, serving.generationBuild == generation.build { return serving }
        guard let serving = generation.servings[listener.name] else { return nil }
        listener = serving.listener
        self.serving = serving
        return serving
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A request cut off by the close (an idle timeout, a client gone mid-body) makes the
        // decoder report an unexpected end: nobody is there to answer, and it is no bad input.
        guard context.channel.isActive else { return }
        guard let parserError = error as? HTTPParserError else {
            closeConnection()
            return
        }
        // The decoder is broken for this connection: answer if we still can, then close.
        // Nothing reaches the upstream, since a request is only forwarded once its head parsed.
        loop.stats.increment("downstream_bad_requests")
        pipelined.removeAll()
        if driver != nil, reading == .complete {
            // What broke came after a complete request (bytes behind a `connection: close`,
            // say): that request still gets its answer, then the connection closes.
            persistence = .closeAfterResponse
            setReadsPaused(true)
            return
        }
        // The request that broke is the one being read (its head may already have gone
        // upstream: that request is cut). If nothing of its answer went out, it gets a 400.
        driver?.abort()
        driver = nil
        if !responseInProgress, reading != .bodyAfterAnswer {
            let reply: LocalReply
            if case .headerOverflow = parserError {
                reply = LocalReply.error(.requestHeaderFieldsTooLarge, "request headers too large", close: true)
            } else {
                reply = LocalReply.error(.badRequest, "malformed request: \(parserError)", close: true)
            }
            persistence = .closeAfterResponse
            writeLocalReply(reply)
        } else {
            closeConnection()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        driver?.abort()
        driver = nil
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        sendStalled(!writable, at: loop.clock.now)
        driver?.downstreamWritabilityChanged(writable)
        context.fireChannelWritabilityChanged()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readCompleted()
        context.fireChannelReadComplete()
    }

    /// The read being delivered is over (from `RequestFastPath` directly, on a connection
    /// it reads).
    func readCompleted() {
        if case .quiet = readBurst { bytesWithoutAPart(at: loop.clock.now) }
        readBurst = .quiet
    }

    /// Sends what was written to `connection` for the request: with the loop's other flushes
    /// at the end of the turn, if a read being delivered wrote it (so a request's head, body
    /// and end that came in one read go upstream in one write, and the upstream is woken once
    /// for the turn's requests: `LoopFlushes`), else now (a connect completed, a stage
    /// resumed). On an h2 stream, now: its parts come frame by frame, and the stream must not
    /// wait on the connection's reads.
    func flushUpstream(_ connection: any UpstreamConnection) {
        guard !isHTTP2Stream, case .carriedParts = readBurst else { return connection.flush() }
        loop.flushes.flushAtEndOfTurn(connection)
    }

    /// The request's body is needed now (a stage reads it, or it is about to go upstream):
    /// a client waiting for `100 Continue` gets it.
    func requestBodyNeeded() {
        guard case .pending = continueExpectation, let outbound else { return }
        continueExpectation = .sent
        // The client's body clock starts now that it was asked for the body.
        if case .requestBody = deadlines.client { deadlines.client = .requestBody(lastRead: loop.clock.now) }
        outbound.writeAndFlush(NIOAny(HTTP1ResponseEncoder.continueHead(version: requestVersion)), promise: nil)
    }

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        if readGate.shouldRead(pipelineFull: pipelineFull) { (outbound ?? context).read() }
    }

    func setReadsPaused(_ paused: Bool) {
        guard readGate.setPaused(paused) else { return }
        resumeReadingIfAllowed()
    }

    private func resumeReadingIfAllowed() {
        guard let outbound, readGate.takePendingRead(pipelineFull: pipelineFull) else { return }
        // The time reads were withheld was not the client's: its body clock starts again.
        if case .requestBody = deadlines.client { deadlines.client = .requestBody(lastRead: loop.clock.now) }
        outbound.read()
    }

    /// Reads are withheld by this side (backpressure), or the client waits for a `100 Continue`
    /// not sent yet: a body that is not coming is not the client's doing.
    var readsWithheld: Bool {
        if case .pending = continueExpectation { return true }
        return readGate.isPaused || pipelineFull
    }

    // MARK: Pipelining

    /// Reads stop once this many parts wait behind the request being answered.
    private static let maxPipelinedParts = 64

    var pipelineFull: Bool { pipelined.count >= Self.maxPipelinedParts }

    /// The request being answered is done: serve what waited behind it, in order.
    private func servePipelined() {
        guard !servingPipelined, let context else { return }
        servingPipelined = true
        defer { servingPipelined = false }
        while persistence != .closing, let next = pipelined.first, driver == nil || !next.part.isHead {
            pipelined.removeFirst()
            handle(next.part, facts: next.facts, context: context)
        }
        if persistence == .closing { pipelined.removeAll() }
        resumeReadingIfAllowed()
    }

    func exchangeFinished(_ finished: HTTPExchangeDriver) {
        if driver === finished { driver = nil }
        if !pipelined.isEmpty { servePipelined() }
    }

    /// This response must end the connection (an HTTP/1.0 body delimited by the close).
    func closeAfterThisResponse() {
        if persistence == .keepAlive { persistence = .closeAfterResponse }
    }

    /// Graceful shutdown: idle connections close now, busy ones after their response.
    func quiesce() {
        closeAfterThisResponse()
        if driver == nil { closeConnection() }
    }

    /// Closes the connection, once what was written to it went out: an answer whose flush
    /// waits for the end of the loop's turn (`LoopFlushes`) is not dropped.
    func closeConnection() {
        guard let context else { return }
        context.flush()
        context.close(promise: nil)
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
