import LuxyConfig
import NIOCore
import NIOHTTP1

// The upstream's side of an exchange: its response as it arrives, a WebSocket switch, and
// flow control of the request body towards it. Split from HTTPExchangeDriver.swift, which
// carries the request through its stages.
extension HTTPExchangeDriver {
    /// RFC 9110 §6.4.1: no content for HEAD, 1xx, 204 and 304; otherwise only a zero length says so.
    static func responseHasBody(_ head: HTTPResponseHead, to method: HTTPMethod) -> Bool {
        if method == .HEAD || head.status.code < 200 || head.status == .noContent || head.status == .notModified {
            return false
        }
        return head.headers.first(name: "content-length").map { $0 != "0" } ?? true
    }
}

extension HTTPExchangeDriver: UpstreamResponseReceiver {
    func upstreamResponseHead(_ head: consuming HTTPResponseHead) {
        guard takeResponseHead(consume head, hopByHopRemoved: false) else { return }
        beginResponseWithinUpstreamRead()
    }

    /// The response came whole in one read: the stages run with all of it in hand (as they
    /// would once a body they asked for came), and the client's answer goes out in one write.
    func upstreamWholeResponse(_ head: consuming HTTPResponseHead, body: ByteBuffer?) {
        // The connection is done with this exchange (pooled or closing): nothing may pause
        // or abandon it from here on.
        upstream = nil
        requestSink = nil
        guard takeResponseHead(consume head, hopByHopRemoved: true) else { return }
        if let body { _ = exchange.appendBody(.response, body) }
        responseEnded = true
        exchange.completeBody(.response)
        beginResponseWithinUpstreamRead()
    }

    var takesForwardedResponseHead: Bool { forwardsResponseHeadAsItCame }

    /// A head forwarded as it came (`forwardsResponseHeadAsItCame`): no stage runs on it, and
    /// the body follows it as it comes.
    func upstreamResponseHead(forwarded head: consuming ForwardedResponseHead) {
        takeForwardedResponseHead(head.status)
        handler.writeResponseHead(forwarded: consume head, body: nil)
        // Within the upstream's read: its completion flushes the head with the body that came
        // with it. Reading may have paused for the request; now the client sets the pace.
        upstream?.setReading(handler.context?.channel.isWritable ?? true)
    }

    /// A whole response whose head is forwarded as it came: one write to the client.
    func upstreamWholeResponse(forwarded head: consuming ForwardedResponseHead, body: ByteBuffer?) {
        // The connection is done with this exchange (pooled or closing).
        upstream = nil
        requestSink = nil
        takeForwardedResponseHead(head.status)
        responseEnded = true
        exchange.bytesSent += body?.readableBytes ?? 0
        handler.writeResponseHead(forwarded: consume head, body: body)
        handler.writeResponseEnd(nil)
        finish()
    }

    /// What `takeResponseHead` does for a head no stage sees: its status is the attempt's
    /// outcome (no retry policy, so never retried), and the request timeout stops.
    private func takeForwardedResponseHead(_ status: HTTPResponseStatus) {
        endAttempt(status.code >= 500 ? .status5xx : .success)
        cancelTimer()
        state = .streamingResponse
    }

    /// The response stages start within the upstream's read: a head that goes on then is
    /// flushed by that read's completion, with the body the same read brought, in one write.
    private func beginResponseWithinUpstreamRead() {
        insideUpstreamRead = true
        beginResponse()
        insideUpstreamRead = false
    }

    /// The response head becomes the exchange's, unless the retry policy retries its status
    /// (false: another attempt began). `hopByHopRemoved`: the reader removed them already (the
    /// fast path does, in place), so the head is not scanned a second time.
    private func takeResponseHead(_ head: consuming HTTPResponseHead, hopByHopRemoved: Bool) -> Bool {
        // The attempt's outcome goes to its cluster first, retried or not (outlier detection).
        endAttempt(head.status.code >= 500 ? .status5xx : .success)
        // An answer the retry policy retries never reaches the response stages.
        if retries != nil, retryAfterAnswer(head.status) { return false }
        // The request timeout bounds the wait for the answer; a body that keeps streaming
        // after it (a download, server-sent events) is not cut.
        cancelTimer()
        let switching = head.status == .switchingProtocols
        if switching {
            // Only for the WebSocket upgrade asked for, after the whole request, and saying so.
            guard upgrade == .requested, requestComplete, HTTPUpgrade.isUpgradeRequest(head.headers) else {
                upstream?.abandon()
                upstream = nil
                upstreamFailed(.malformedResponse("101 Switching Protocols without an upgrade to switch to"))
                return false
            }
            upgrade = .accepted
        }
        if !hopByHopRemoved {
            let upgradeValues = switching ? head.headers["upgrade"] : []
            HopByHopHeaders.strip(&head.headers)
            HTTPUpgrade.restore(upgradeValues, into: &head.headers)
        }
        exchange.response.hasBody = Self.responseHasBody(head, to: exchange.requestHead.method)
        exchange.responseHead = consume head
        if switching {
            // No body and no end follow a 101: what follows is the tunnel's.
            responseEnded = true
            exchange.completeBody(.response)
        }
        return true
    }

    /// After the response stages of a 101: it goes out and both connections become a tunnel.
    /// False when a stage made it another answer: the upstream, switched already, is closed,
    /// and that answer is written as usual.
    func switchToTunnel(_ head: HTTPResponseHead) -> Bool {
        let connection = upstream as? UpstreamConnectionHandler
        upstream = nil
        guard head.status == .switchingProtocols, let connection else {
            connection?.abandon()
            return false
        }
        let handler = self.handler
        let tunnel = HTTPUpgradeTunnel(loop: handler.loop)
        stats.increment("websocket_upgrades")
        var head = head
        head.version = .http1_1
        handler.writeUpgradeResponse(head)
        // The exchange ends before its handler leaves the pipeline: the driver must not outlive it.
        finish()
        tunnel.open(downstream: handler, upstream: connection)
        return true
    }

    func upstreamResponseBody(_ part: ByteBuffer) {
        if let stream = exchange.responseChunks, stream.take(part) {
            // Handed to the stage at the end of the read (`upstreamReadComplete`), together
            // with the end if it came in the same read; meanwhile the upstream waits.
            upstream?.setReading(false)
            return
        }
        passResponsePart(part)
    }

    /// A part of the response body past every stage that streams it.
    func passResponsePart(_ part: ByteBuffer) {
        switch state {
        case .streamingResponse:
            exchange.bytesSent += part.readableBytes
            handler.writeResponseBody(part, flush: false)
        case .responseStages:
            if !exchange.appendBody(.response, part) {
                upstream?.abandon()
                upstream = nil
            } else if !exchange.response.isWanted, exchange.response.bufferedBytes > Self.streamingHighWater {
                // Stages are still deciding (an httpCall, say): hold the upstream, not memory.
                upstream?.setReading(false)
            }
        default:
            break
        }
    }

    func upstreamResponseEnd(_ trailers: HTTPHeaders?) {
        cancelTimer()
        upstream = nil
        // A request body still streaming has nowhere to go: the connection closes, not pooled.
        requestSink = nil
        if let stream = exchange.responseChunks, stream.isTaking {
            exchange.responseTrailers = trailers
            _ = stream.takeEnd()
            return
        }
        passResponseEnd(trailers)
    }

    /// The response's end, past every stage that streams its body.
    func passResponseEnd(_ trailers: HTTPHeaders?) {
        responseEnded = true
        switch state {
        case .streamingResponse:
            exchange.responseTrailers = trailers
            handler.writeResponseEnd(trailers)
            finish()
        case .responseStages:
            // Stages may still read or change them (`trailers()`); they go out with the end.
            exchange.responseTrailers = trailers
            exchange.completeBody(.response)
        default:
            break
        }
    }

    /// A kept-alive connection the upstream closed just as it was reused: a request without a
    /// body that got no answer at all is sent once more on a new connection, as HTTP clients
    /// do, instead of failing with 502.
    private func retryOnFreshConnection(after error: UpstreamError) -> Bool {
        guard error == .reset, !retriedStaleConnection, case .forwarding(let connection) = state,
              connection.isReused, !exchange.request.hasBody, let cluster = admittedCluster
        else { return false }
        retriedStaleConnection = true
        // The upstream closed an idle connection: not the endpoint failing.
        endAttempt(.abandoned)
        stats.increment("upstream_retry_stale_connection")
        cancelTimer()
        upstream = nil
        requestSink = nil
        startAttempt(on: cluster)
        return true
    }

    func upstreamReadComplete() {
        exchange.responseChunks?.deliver()
        if case .streamingResponse = state { handler.flushResponse() }
    }

    func upstreamFailed(_ error: UpstreamError) {
        // A connect that fails after the client left finds the exchange over.
        guard !isFinished else { return }
        if retryOnFreshConnection(after: error) { return }
        // Each failed attempt is counted under its reason, and told to its cluster (outlier
        // detection), retried or not.
        stats.increment(error.counterName)
        endAttempt(error.isGatewayFailure ? .gatewayFailure : .abandoned)
        if retries != nil, retryAfterFailure(error) { return }
        cancelTimer()
        upstream = nil
        requestSink = nil
        exchange.responseFlags.insert(error.responseFlag)
        switch state {
        case .requestStages, .connecting, .forwarding, .backingOff:
            var reply = LocalReply.error(error.status, error.description)
            if case .overloaded = error { reply.head.headers.add(name: "x-luxy-overloaded", value: "true") }
            sendLocal(reply, runResponseStages: true)
        case .responseStages:
            exchange.abortBody(.response)
            handler.abortResponse()
            finish()
        case .streamingResponse:
            handler.abortResponse()
            finish()
        case .logging, .loggingDetached, .done:
            break
        }
    }
}

extension HTTPExchangeDriver: HTTPExchangeFlowControl {
    /// A stage waits for the whole body: it must be read even if streaming had paused it.
    func exchangeWantsRequestBody() {
        handler.requestBodyNeeded()
        handler.setReadsPaused(false)
    }

    /// A slow upstream slows the client's upload down.
    func upstreamWritabilityChanged(_ writable: Bool) {
        upstreamWritability = writable ? .writable : .full
        guard requestSink != nil else { return }
        handler.setReadsPaused(!writable)
    }
}
