import NIOCore
import NIOHTTP1

// Writing the response: on HTTP/1.1 as bytes (`HTTP1ResponseEncoder`, no encoder handler in
// the pipeline) from the connection's `outbound` context, on an h2 stream as parts for NIO's
// codec. Split from HTTPProxyHandler.swift, which reads the requests and serves them in order.
extension HTTPProxyHandler {
    /// `body`: the whole body or its first part, when it is known with the head; written
    /// behind the head, in the head's buffer when it is small.
    func writeResponseHead(_ head: HTTPResponseHead, body: ByteBuffer? = nil) {
        guard let outbound else { return }
        responseBegins()
        if isHTTP2Stream {
            outbound.write(Self.wrapOutboundOut(.head(head)), promise: nil)
            if let body, body.readableBytes > 0 { writeResponseBody(body, flush: false) }
            return
        }
        var head = head
        if persistence != .keepAlive {
            head.headers.replaceOrAdd(name: "connection", value: "close")
        } else if requestVersion == .http1_0 {
            // HTTP/1.0 closes unless told otherwise (RFC 9112 §9.3).
            head.headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        write(encoder.encodeHead(head, respondingTo: requestMethod, allocator: allocator, body: body),
              body: body, to: outbound)
    }

    /// A head forwarded as the upstream sent it (HTTP/1.1 only): as `writeResponseHead`, with
    /// no head to encode.
    func writeResponseHead(forwarded head: consuming ForwardedResponseHead, body: ByteBuffer?) {
        // An h2 stream's codec takes parts: its exchanges never forward a head as bytes.
        assert(!isHTTP2Stream, "a head as bytes on an HTTP/2 stream")
        guard let outbound else { return }
        responseBegins()
        write(encoder.completeForwardedHead(consume head, closing: persistence != .keepAlive, body: body),
              body: body, to: outbound)
    }

    /// An encoded head, and `body` behind it unless the head's buffer carries it.
    private func write(_ encoded: HTTP1ResponseEncoder.EncodedHead, body: ByteBuffer?, to outbound: ChannelHandlerContext) {
        outbound.write(NIOAny(encoded.bytes), promise: nil)
        if let body, !encoded.carriesBody, body.readableBytes > 0 { writeResponseBody(body, flush: false) }
    }

    private func responseBegins() {
        responseInProgress = true
        noteStreamActivity()
        if case .pending = continueExpectation {
            // Answered without the body ever being asked for: a client still holding it back
            // would leave the connection mid-request, so this answer is its last.
            continueExpectation = .none
            if reading != .complete { closeAfterThisResponse() }
        }
    }

    /// The 101 of a WebSocket upgrade: the last HTTP this connection writes, without the
    /// `connection: close` an upgrade request otherwise earns.
    func writeUpgradeResponse(_ head: HTTPResponseHead) {
        guard let outbound else { return }
        outbound.writeAndFlush(NIOAny(encoder.encodeHead(head, respondingTo: requestMethod,
                                                         allocator: allocator).bytes), promise: nil)
    }

    func writeResponseBody(_ body: ByteBuffer, flush: Bool = true) {
        guard let outbound else { return }
        noteStreamActivity()
        if isHTTP2Stream {
            outbound.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        } else {
            encoder.framing.writeBody(body, allocator: allocator) {
                outbound.write(NIOAny($0), promise: nil)
            }
        }
        if flush { outbound.flush() }
    }

    /// Sends what was written of the response.
    func flushResponse() {
        outbound?.flush()
    }

    func writeResponseEnd(_ trailers: HTTPHeaders?) {
        guard let outbound else { return }
        responseInProgress = false
        noteStreamActivity()
        answerEnded(at: loop.clock.now)
        if reading == .body { reading = .bodyAfterAnswer }
        if isHTTP2Stream {
            outbound.write(Self.wrapOutboundOut(.end(trailers)), promise: nil)
            loop.flushes.flushAtEndOfTurn(outbound)
            return
        }
        let end = encoder.framing.endBody(trailers: trailers, allocator: allocator)
        guard persistence != .keepAlive else {
            if let end { outbound.write(NIOAny(end), promise: nil) }
            // With the turn's other answers: one wake-up of the client for all (`LoopFlushes`).
            loop.flushes.flushAtEndOfTurn(outbound)
            return
        }
        // The last answer: the connection closes once it is out. Only here does a write
        // need its promise.
        persistence = .closing
        let written = outbound.writeAndFlush(NIOAny(end ?? ByteBuffer()))
        guard let context else { return }
        written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func writeLocalReply(_ reply: LocalReply) {
        writeResponseHead(reply.head, body: reply.body)
        writeResponseEnd(nil)
    }

    func noteStreamActivity() {
        if streamDeadlines != nil { lastStreamActivity = loop.clock.now }
    }

    /// The response can't be finished (upstream broke mid-body): the client must see a cut.
    func abortResponse() {
        responseInProgress = false
        closeConnection()
    }
}
