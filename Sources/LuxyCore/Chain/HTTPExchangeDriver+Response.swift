import LuxyConfig
import NIOCore
import NIOHTTP1

// The response, local or upstream: the response stages in reverse, the route's own fields,
// the limits on what stages leave, and the head and body written to the client.
extension HTTPExchangeDriver {
    func sendLocal(_ reply: LocalReply, runResponseStages: Bool) {
        guard !isFinished else { return }
        cancelTimer()
        if !runResponseStages { enteredStages = 0 }
        exchange.responseHead = reply.head
        exchange.response.hasBody = reply.body.readableBytes > 0
        if reply.body.readableBytes > 0 { _ = exchange.appendBody(.response, reply.body) }
        exchange.completeBody(.response)
        responseEnded = true
        beginResponse()
    }

    /// The response head is known (upstream or local): run the response stages, then stream.
    func beginResponse() {
        state = .responseStages
        if let edits = exchange.route?.edits, exchange.responseHead != nil {
            edits.applyToResponse(&exchange.responseHead!.headers)
        }
        runResponseStage(enteredStages - 1)
    }

    func runResponseStage(_ index: Int) {
        guard case .responseStages = state else { return }
        guard index >= 0 else { return writeResponse() }
        stageIndex = index
        guard selection.phases[index].contains(.response) else { return runResponseStage(index - 1) }
        selection.stages[index].runResponse(exchange)
    }

    func responseStageFinished(_ verdict: StageVerdict) {
        if exchange.response.overflowed {
            // Over the buffering limit even if the stage carried on (fail-open, pcall):
            // what was read can't be sent whole, so the client gets a clear 502.
            stats.increment("upstream_body_too_large")
            return replaceResponse(LocalReply.error(.badGateway, "upstream response larger than the buffering limit"))
        }
        switch verdict {
        case .proceed, .responded:
            runResponseStage(stageIndex - 1)
        case .failed:
            exchange.responseFlags.insert(.pluginFailure)
            stats.increment("downstream_rq_plugin_failed")
            replaceResponse(LocalReply.error(.internalServerError, "plugin '\(selection.stages[stageIndex].name)' failed"))
        }
    }

    /// The stages left a head over the limits a client's head must keep: it is not sent, and
    /// the request fails with 500 and the reason in the log (no one stage is to blame: any of
    /// them may have added to it).
    func stagesOverstepped(_ what: String, _ violation: String) {
        stats.increment("plugin_headers_over_limit")
        exchange.responseFlags.insert(.pluginFailure)
        handler.loop.logger.error("stages left \(what) over the limits", metadata: [
            "listener": "\(serving.listener.name)", "route": "\(exchange.route?.routeName ?? "")",
            "reason": "\(violation)",
        ])
        replaceResponse(LocalReply.error(.internalServerError, "\(what) over the limits"))
    }

    /// Answers with `reply` instead of the response in progress, skipping the stages left.
    func replaceResponse(_ reply: LocalReply) {
        upstream?.abandon()
        upstream = nil
        requestSink = nil
        exchange.abortBody(.response)
        enteredStages = 0
        responseEnded = true
        exchange.responseHead = reply.head
        exchange.responseTrailers = nil
        exchange.response.replace(with: reply.body)
        writeResponse()
    }

    func writeResponse() {
        guard var head = exchange.responseHead else { return }
        if !selection.stages.isEmpty, let violation = serving.emittedHeadLimits.violation(head.headers) {
            return stagesOverstepped("response headers", violation)
        }
        if upgrade == .accepted {
            upgrade = .none
            if switchToTunnel(head) { return }
        }
        state = .streamingResponse
        // Changed only when it differs: a head shared with the exchange is copied on write.
        if head.version != .http1_1 { head.version = .http1_1 }
        let statusAllowsBody = head.status.code >= 200 && head.status != .noContent && head.status != .notModified
        if statusAllowsBody, exchange.requestHead.method != .HEAD,
           head.headers.first(name: "content-length") == nil, exchange.response.isComplete {
            head.headers.setContentLength(exchange.response.bufferedBytes)
        }
        if exchange.requestHead.version == .http1_0 {
            // An HTTP/1.0 client knows no chunked coding: without a length, the close ends the body.
            head.version = .http1_0
            if statusAllowsBody, head.headers.first(name: "content-length") == nil { handler.closeAfterThisResponse() }
        }
        let body = exchange.response.take()
        exchange.bytesSent += body?.readableBytes ?? 0
        handler.writeResponseHead(head, body: body)
        if responseEnded {
            handler.writeResponseEnd(exchange.responseTrailers)
            finish()
        } else {
            // Inside an upstream read, its read-complete flushes the head together with the
            // body that came in the same read, in one write; after stages that waited, now.
            if !insideUpstreamRead { handler.flushResponse() }
            // Reading may have paused while the stages ran; now the client sets the pace.
            upstream?.setReading(handler.context?.channel.isWritable ?? true)
        }
    }

    func downstreamWritabilityChanged(_ writable: Bool) {
        upstream?.setReading(writable)
    }
}
