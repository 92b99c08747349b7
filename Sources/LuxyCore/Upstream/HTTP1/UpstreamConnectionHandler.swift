import NIOCore
import NIOHTTP1

/// Receives one upstream response at a time.
///
/// Heads are handed over (`consuming`), not lent: the response stages run within these calls,
/// and a field a stage adds must change the only copy of the fields, not copy them all.
protocol UpstreamResponseReceiver: AnyObject {
    func upstreamResponseHead(_ head: consuming HTTPResponseHead)
    func upstreamResponseBody(_ body: ByteBuffer)
    func upstreamResponseEnd(_ trailers: HTTPHeaders?)
    func upstreamFailed(_ error: UpstreamError)
    /// The upstream can (or can no longer) take more of the request body.
    func upstreamWritabilityChanged(_ writable: Bool)
    /// What one read brought has been delivered: the time to flush what it produced.
    func upstreamReadComplete()
    /// A response whose head, whole body and end came in one read, told at once: instead of
    /// `upstreamResponseHead`, `upstreamResponseBody` and `upstreamResponseEnd`. The
    /// connection is done with it already (back in its pool, or closing), and the head's
    /// hop-by-hop fields are removed (a final status: no upgrade to keep).
    func upstreamWholeResponse(_ head: consuming HTTPResponseHead, body: ByteBuffer?)
    /// Whether this response's head may come as it came (`ForwardedResponseHead`): asked as
    /// the response arrives. A receiver saying so gets it through the two methods below (or,
    /// for a response the fast path does not read, as an `HTTPResponseHead` as usual).
    var takesForwardedResponseHead: Bool { get }
    /// `upstreamResponseHead`, for a head forwarded as it came: its body and end follow.
    func upstreamResponseHead(forwarded head: consuming ForwardedResponseHead)
    /// `upstreamWholeResponse`, for a head forwarded as it came.
    func upstreamWholeResponse(forwarded head: consuming ForwardedResponseHead, body: ByteBuffer?)
}

extension UpstreamResponseReceiver {
    func upstreamWritabilityChanged(_ writable: Bool) {}
    func upstreamReadComplete() {}
    var takesForwardedResponseHead: Bool { false }
    /// Never given a forwarded head (`takesForwardedResponseHead`); were it, the request
    /// fails rather than lose its answer without a word.
    func upstreamResponseHead(forwarded head: consuming ForwardedResponseHead) { upstreamFailed(.reset) }
    func upstreamWholeResponse(forwarded head: consuming ForwardedResponseHead, body: ByteBuffer?) {
        upstreamFailed(.reset)
    }

    func upstreamWholeResponse(_ head: consuming HTTPResponseHead, body: ByteBuffer?) {
        upstreamResponseHead(consume head)
        if let body { upstreamResponseBody(body) }
        upstreamResponseEnd(nil)
    }
}

/// The last handler of an upstream HTTP/1.1 connection. It carries one request at a time and
/// goes back to its pool when the response ended on a connection both sides keep alive.
/// Requests leave it as bytes (`HTTP1RequestEncoder`); responses come from the handlers in
/// front of it, which it tells of each request: most straight from the bytes
/// (`UpstreamResponseFastPath`), the others from NIO's decoder.
final class UpstreamConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The loop's head buffers (requests are encoded into them, a response head forwarded as
    /// it came is copied into one) and its clock, taken once for a response's end and what
    /// follows it.
    private let shared: LoopShared
    private let fastPath: UpstreamResponseFastPath
    private var encoder: HTTP1RequestEncoder
    private var context: ChannelHandlerContext?
    /// Where the connection's writes, flushes and reads start: the fast path's context, first
    /// in the pipeline (set by `UpstreamPool`), so they go straight on to the socket (or TLS)
    /// rather than through the contexts of NIO's decoder and the fast path, which do nothing
    /// with them and cost a pipeline hop each.
    var outbound: ChannelHandlerContext?
    /// The channel's, read once: each read through the channel costs a pipeline and a
    /// channel hop, with their reference counting.
    private var allocator = ByteBufferAllocator()
    private var receiver: UpstreamResponseReceiver?
    private var progress = RequestProgress.idle
    private var isReading = true
    /// The pool the connection goes back to. Strong: a weak reference gives the pool a side
    /// table, and every retain and release of it then takes the runtime's slow path, five a
    /// request. The cycle with the pool's idle list ends when the connection closes
    /// (`channelInactive`, `handlerRemoved`) or becomes a tunnel.
    var pool: UpstreamPool?
    /// Asked by the pool on every take and release (`isUsable`).
    private var openness = ChannelOpenness.notYetActive

    var isUsable: Bool { openness.isOpen }
    /// Requests this connection carried, the current one included.
    private var requestsCarried = 0
    /// The connection carried a request before this one (it came from the pool).
    var isReused: Bool { requestsCarried > 1 }

    /// Where the connection's current request and its response are: what decides, at the
    /// response's end, whether the connection goes back to the pool.
    enum RequestProgress {
        /// No request yet, or the last one is over.
        case idle
        /// A request is out or going out. `requestSent`: its end went out, and only a
        /// connection whose request went out whole may carry another. `keepAlive`: neither
        /// the request nor the response head (once it came) said close.
        case active(requestSent: Bool, keepAlive: Bool)
        /// The upstream answered 101: what follows is another protocol, and the connection
        /// is never pooled again. The head waits until the 101's message ended.
        case switchedProtocols(head: HTTPResponseHead?)
    }
    var channel: Channel? { context?.channel }

    init(fastPath: UpstreamResponseFastPath, shared: LoopShared) {
        self.fastPath = fastPath
        self.encoder = HTTP1RequestEncoder(headBuffer: shared.headBuffer)
        self.shared = shared
    }

    /// An upstream HTTP/1.1 connection's handlers, in `pipeline` after any TLS: the fast path,
    /// NIO's response decoder, and the connection handler, returned. `shared`, `strings`: the
    /// pool's.
    ///
    /// Bytes an upstream sends right behind a 101 are the tunnel's: kept when the decoder is
    /// removed. Requests are written as bytes by the connection handler itself; their headers
    /// are valid by construction (parsed from the client, or set by a script through the
    /// checking Lua host), so no validator runs either.
    @discardableResult
    static func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations, shared: LoopShared,
                            strings: RepeatedFieldStrings) throws -> UpstreamConnectionHandler {
        let decoder = UpstreamResponseDecoder(leftOverBytesStrategy: .forwardBytes)
        let fastPath = UpstreamResponseFastPath(decoder: decoder, strings: strings)
        let connection = UpstreamConnectionHandler(fastPath: fastPath, shared: shared)
        fastPath.connection = connection
        try pipeline.addHandler(fastPath)
        try pipeline.addHandler(ByteToMessageHandler(decoder))
        try pipeline.addHandler(connection)
        // Requests are written from in front of the decoder and the fast path (see `outbound`).
        connection.outbound = try pipeline.context(handler: fastPath)
        return connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // `addHandlers` then points it at the fast path's.
        outbound = context
        allocator = context.channel.allocator
        openness = ChannelOpenness(joining: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        outbound = nil
        openness = .closed
        pool?.forget(self)
        pool = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        openness.becameActive()
        context.fireChannelActive()
    }

    func read(context: ChannelHandlerContext) {
        (outbound ?? context).read()
    }

    /// Starts a request; `receiver` gets the response (or the failure).
    func begin(_ head: HTTPRequestHead, receiver: UpstreamResponseReceiver) {
        start(for: receiver, keepAlive: head.isKeepAlive)
        send(.head(head), flush: false)
    }

    private func start(for receiver: UpstreamResponseReceiver, keepAlive: Bool) {
        requestsCarried += 1
        self.receiver = receiver
        progress = .active(requestSent: false, keepAlive: keepAlive)
    }

    var writesHeadsAsBytes: Bool { true }

    /// `begin`, for a head that goes as the client sent it (`ForwardedRequestHead`): an
    /// HTTP/1.1 head with no `connection` field, so the connection stays open after it.
    func begin(_ head: HTTPRequestHead, forwarded: ForwardedRequestHead, receiver: UpstreamResponseReceiver) {
        start(for: receiver, keepAlive: true)
        guard let outbound else { return }
        fastPath.expectResponse(to: head)
        encoder.forwards(bodyFramed: forwarded.framing)
        outbound.write(Self.wrapOutboundOut(forwarded.bytes), promise: nil)
    }

    func send(_ part: HTTPClientRequestPart, flush: Bool) {
        guard let outbound else { return }
        switch part {
        case .head(let head):
            fastPath.expectResponse(to: head)
            outbound.write(Self.wrapOutboundOut(encoder.encodeHead(head, allocator: allocator)),
                           promise: nil)
        case .body(.byteBuffer(let body)):
            encoder.framing.writeBody(body, allocator: allocator) {
                outbound.write(Self.wrapOutboundOut($0), promise: nil)
            }
        case .body(.fileRegion):
            preconditionFailure("request bodies are byte buffers")
        case .end(let trailers):
            if case .active(_, let keepAlive) = progress { progress = .active(requestSent: true, keepAlive: keepAlive) }
            if let end = encoder.framing.endBody(trailers: trailers, allocator: allocator) {
                outbound.write(Self.wrapOutboundOut(end), promise: nil)
            }
        }
        if flush { outbound.flush() }
    }

    func flush() {
        outbound?.flush()
    }

    /// The receiver gave up (timeout, client gone): the connection is in an unknown state.
    func abandon() {
        receiver = nil
        context?.close(promise: nil)
    }

    /// Hands the connection to a tunnel after a 101: no more responses, no pool.
    func detachForTunnel() -> Channel? {
        receiver = nil
        pool?.forget(self)
        pool = nil
        return context?.channel
    }

    /// Lets a slow client slow the upstream down.
    func setReading(_ reading: Bool) {
        // Called on every response end; the option goes through generic casts, so only on change.
        guard reading != isReading else { return }
        isReading = reading
        try? context?.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: reading)
    }

    /// What NIO's decoder read (the responses the fast path handed over).
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            if head.status == .switchingProtocols {
                // The new protocol's bytes wait unread until a tunnel takes them (or the
                // exchange gives up and closes the connection). The head is told at the
                // end: a tunnel removes the decoder, which must be done firing.
                progress = .switchedProtocols(head: head)
                setReading(false)
                return
            }
            receivedHead(head, keepAlive: head.isKeepAlive)
        case .body(let body):
            receivedBody(body)
        case .end(let trailers):
            if case .switchedProtocols(let head) = progress {
                // A 101 has no body; the receiver takes the connection over, or closes it.
                progress = .switchedProtocols(head: nil)
                if let head { receiver?.upstreamResponseHead(head) }
                return
            }
            receivedEnd(trailers, bytesBehind: false)
        }
    }

    /// A response's head; `keepAlive`: it did not say close.
    func receivedHead<Head: ReceivedResponseHead>(_ head: consuming Head, keepAlive: Bool) {
        noteResponseHead(keepAlive: keepAlive)
        guard let receiver else { return }
        head.tell(receiver)
    }

    /// Whether the response coming now goes to a receiver that takes its head as it came.
    var forwardsResponseHeadAsItCame: Bool {
        receiver?.takesForwardedResponseHead ?? false
    }

    /// An empty buffer of the loop's (`ReusedHeadBuffer`) to copy a forwarded head into.
    func takeHeadBuffer(capacity: Int) -> ByteBuffer {
        shared.headBuffer.take(capacity: capacity, allocator: allocator)
    }

    /// A buffer of `takeHeadBuffer` that was not used, for a later head.
    func keepHeadBuffer(_ buffer: ByteBuffer) {
        shared.headBuffer.keep(buffer)
    }

    /// A response whose head, whole body and end came in one read (the fast path's usual
    /// case). The connection is done with it before the receiver hears of it, so the stages
    /// run with the whole response in hand and its answer to the client goes out in one write.
    func receivedWholeResponse<Head: ReceivedResponseHead>(_ head: consuming Head, keepAlive: Bool, body: ByteBuffer?,
                               bytesBehind: Bool) {
        noteResponseHead(keepAlive: keepAlive)
        // The connection's return to the pool, the answer's end and the request's log phases
        // take one time between them, as a client read's work does.
        let entered = shared.clock.enterRead()
        defer { shared.clock.leaveRead(entered) }
        guard let receiver = endResponse(bytesBehind: bytesBehind) else { return }
        head.tellWhole(receiver, body: body)
    }

    private func noteResponseHead(keepAlive: Bool) {
        if case .active(let requestSent, let requestKeepAlive) = progress {
            progress = .active(requestSent: requestSent, keepAlive: requestKeepAlive && keepAlive)
        }
    }

    func receivedBody(_ body: ByteBuffer) {
        receiver?.upstreamResponseBody(body)
    }

    /// The response ended. `bytesBehind`: the read held more than the response framed,
    /// which no next response may be read from: the connection closes.
    func receivedEnd(_ trailers: HTTPHeaders? = nil, bytesBehind: Bool) {
        shared.clock.duringRead { endResponse(bytesBehind: bytesBehind)?.upstreamResponseEnd(trailers) }
    }

    /// The response is over for the connection: back to the pool if both sides keep it
    /// alive, closed otherwise. Returns the receiver, which is to be told last.
    private func endResponse(bytesBehind: Bool) -> UpstreamResponseReceiver? {
        let reusable = if case .active(requestSent: true, keepAlive: true) = progress { !bytesBehind } else { false }
        progress = .idle
        let receiver = self.receiver
        self.receiver = nil
        // A slow client may have paused reading; the next request must not inherit that.
        setReading(true)
        if reusable, let pool {
            pool.release(self)
        } else {
            context?.close(promise: nil)
        }
        return receiver
    }

    /// The connection closed before the body's declared length came.
    func receivedTruncatedBody() {
        fail(.malformedResponse("\(HTTPParserError.invalidEOFState)"))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        readCompleted()
        context.fireChannelReadComplete()
    }

    /// The read being delivered is over (from `UpstreamResponseFastPath` directly).
    func readCompleted() {
        receiver?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        receiver?.upstreamWritabilityChanged(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        openness = .closed
        pool?.forget(self)
        pool = nil
        fail(.reset)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parserError = error as? HTTPParserError {
            fail(.malformedResponse("\(parserError)"))
        } else if let refused = error as? UpstreamTLSHandshake.PeerRefusedHandshake {
            fail(.tlsHandshakeFailed(refused.description))
        } else {
            fail(.reset)
        }
        context.close(promise: nil)
    }

    private func fail(_ error: UpstreamError) {
        guard let receiver else { return }
        self.receiver = nil
        receiver.upstreamFailed(error)
    }
}

@available(*, unavailable)
extension UpstreamConnectionHandler: Sendable {}

/// A WebSocket tunnel takes the connection over (`HTTPUpgradeTunnel`).
extension UpstreamConnectionHandler: RemovableChannelHandler {}
