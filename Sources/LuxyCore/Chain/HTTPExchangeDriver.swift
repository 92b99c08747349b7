import LuxyConfig
import NIOCore
import NIOHTTP1

/// Carries one request through its chain: routing, the Lua stages on the request, the route's
/// action (upstream, direct response, echo), the stages on the response in reverse, and the
/// response back to the client. Lives on the connection's loop; one per request.
final class HTTPExchangeDriver {
    enum State {
        case requestStages
        case connecting
        case forwarding(any UpstreamConnection)
        /// An attempt failed and the retry policy waits (the back-off) before the next one.
        case backingOff
        case responseStages
        case streamingResponse
        case done
    }

    unowned let handler: HTTPProxyHandler
    let generation: LoopGeneration
    let serving: ListenerServing
    let exchange: HTTPExchange
    var state = State.requestStages
    var chain: HTTPStageChain?
    var stages: [HTTPStage] = []
    /// Stages whose request phase ran; their response phases run in reverse.
    var enteredStages = 0
    /// The stage whose phase runs now.
    var stageIndex = 0
    var requestComplete = false
    var responseEnded = false
    /// Where the response comes from, until it ended.
    var upstream: (any UpstreamConnection)?
    /// Where the rest of the request body goes, until it ended — also after the response
    /// began: an upstream may answer early, or stream both ways at once.
    var requestSink: (any UpstreamConnection)?
    /// Whether this exchange asked its upstream for a WebSocket upgrade, and got a 101.
    var upgrade = HTTPUpgrade.Progress.none
    let stats: ProxyStats
    /// Set while the upstream's response head is being handled synchronously.
    var insideUpstreamRead = false
    /// At most one retry, for a kept-alive connection found closed (`retryOnFreshConnection`).
    var retriedStaleConnection = false
    /// Whether the upstream takes more of the request body now; a stage streaming the body
    /// must not resume the client's reads while it does not.
    var upstreamWritability = UpstreamWritability.writable
    /// The stages whose phase streams a body after the chain went on without them
    /// (`bodyChunks()`), for the plugin named when one fails.
    var streamingStages = StreamingStages()
    /// The cluster whose circuit breaker counts this request, from `forward` to `finish`.
    var admittedCluster: UpstreamCluster?
    /// Set on routes with a `retry_policy` once the request goes upstream.
    var retries: RetryAttempts?
    /// The endpoint the current attempt went to, until its outcome is recorded (`endAttempt`).
    var attempt: UpstreamPick?
    var attemptCluster: UpstreamCluster?
    /// Endpoints this request went to and must not go to again while there is another: those
    /// whose connect failed (failover) and, on a route with a retry policy, every one tried.
    var triedEndpoints = UpstreamEndpointSet.none

    /// While the body has nowhere to go yet, buffer this much before withholding reads.
    static let streamingHighWater = 256 * 1024

    init(handler: HTTPProxyHandler, serving: ListenerServing, head: HTTPRequestHead, framing: RequestFraming,
         peer: ConnectionPeer) {
        self.handler = handler
        self.serving = serving
        self.generation = serving.generation
        self.stats = handler.loop.stats
        self.exchange = HTTPExchange(
            listenerName: serving.listener.name, direction: serving.listener.direction,
            eventLoop: handler.loop.eventLoop, head: head, framing: framing, peer: peer,
            maxBufferedBodyBytes: generation.configuration.limits.maxBufferedBodyBytes, services: generation.services,
            routingFieldNames: serving.router.routingFieldNames)
        generation.exchangeStarted()
        exchange.flowControl = self
    }

    func start() {
        guard let route = serving.router.route(exchange.requestHead) else {
            stats.increment("downstream_no_route")
            return sendLocal(LocalReply.error(.notFound, "no route for \(exchange.requestHead.uri)"), runResponseStages: false)
        }
        exchange.route = route
        if exchange.framing.isWebSocket, !route.upgrades.contains("websocket") {
            // Envoy's answer to an upgrade its route was not configured for. (Other upgrades,
            // h2c included, can't be tunnelled: `Upgrade` is dropped as hop-by-hop and the
            // request goes on as a plain one, which RFC 9110 §7.8 allows.)
            stats.increment("downstream_upgrade_refused")
            return sendLocal(LocalReply.error(.forbidden, "upgrade to websocket is not allowed on this route"),
                             runResponseStages: false)
        }
        if let chain = serving.chain {
            self.chain = chain
            stages = chain.stages(for: route)
        }
        runRequestStage(0)
    }

    // MARK: Request stages

    func runRequestStage(_ index: Int) {
        guard case .requestStages = state else { return }
        guard index < stages.count else { return dispatch() }
        let stage = stages[index]
        stageIndex = index
        enteredStages = index + 1
        guard stage.handlesRequest else { return runRequestStage(index + 1) }
        stage.runRequest(exchange)
    }

    /// Where every stage's verdict comes in (`HTTPExchange.resume`), for the stage at
    /// `stageIndex` in the phase `state` says.
    func stageFinished(_ verdict: StageVerdict) {
        switch state {
        case .requestStages: requestStageFinished(verdict)
        case .responseStages: responseStageFinished(verdict)
        // The exchange ended meanwhile (the client left while the stage waited).
        default: return
        }
    }

    private func requestStageFinished(_ verdict: StageVerdict) {
        let index = stageIndex
        // body() over max_buffered_body_bytes is the client's doing: 413, not a plugin 500,
        // and a fail-open stage must not let the oversized body through either.
        if exchange.request.overflowed, !verdict.isResponded {
            return failRequestBody(.tooLarge(limit: exchange.maxBufferedBodyBytes))
        }
        switch verdict {
        case .proceed:
            runRequestStage(index + 1)
        case .responded:
            let reply = exchange.localReply
                ?? LocalReply.error(.internalServerError, "stage answered nothing")
            // Envoy's order: a local reply passes the response phase of the stages before it.
            enteredStages = index
            sendLocal(reply, runResponseStages: true)
        case .failed:
            enteredStages = 0
            // The reason (file:line, message) is logged by the stage; clients only learn which
            // plugin failed, not the script's internals.
            sendLocal(LocalReply.error(.internalServerError, "plugin '\(stages[index].name)' failed"),
                      runResponseStages: false)
        }
    }

    func dispatch() {
        if exchange.routeCleared {
            // The stages already chosen stay (Envoy's filter chain does too); the action,
            // cluster and service follow the request as the stages left it.
            guard let route = serving.router.route(exchange.requestHead) else {
                stats.increment("downstream_no_route")
                return sendLocal(LocalReply.error(.notFound, "no route for \(exchange.requestHead.uri)"),
                                 runResponseStages: true)
            }
            exchange.route = route
        }
        guard let route = exchange.route else { return }
        // The route's own fields go on last, over what the stages left (Envoy's router does so).
        route.edits?.applyToRequest(&exchange.requestHead.headers)
        if !stages.isEmpty, let violation = serving.emittedHeadLimits.violation(exchange.requestHead.headers) {
            return stagesOverstepped("request headers", violation)
        }
        switch route.action {
        case .directResponse(let status, let body, let contentType):
            sendLocal(LocalReply.make(HTTPResponseStatus(statusCode: status), body: body,
                                      contentType: contentType ?? "text/plain"), runResponseStages: true)
        case .echo:
            exchange.requestBody { [self] result in
                switch result {
                case .success(let body):
                    sendLocal(EchoResponder.reply(for: exchange, body: body), runResponseStages: true)
                case .failure(let error):
                    failRequestBody(error)
                }
            }
        case .cluster, .weightedClusters:
            forward(to: route.clusterName ?? "")
        }
    }

    // MARK: Upstream

    func forward(to clusterName: String) {
        guard let cluster = generation.services.cluster(named: clusterName) else {
            return upstreamFailed(.unknownCluster(clusterName))
        }
        guard cluster.breaker.admitRequest() else { return upstreamFailed(.overloaded(.requests)) }
        admittedCluster = cluster
        if let policy = exchange.route?.retryPolicy {
            let timeout = exchange.route?.edits?.timeout ?? cluster.requestTimeout
            retries = RetryAttempts(policy: policy, deadline: handler.loop.eventLoop.now + timeout)
        }
        startAttempt(on: cluster)
    }

    /// One attempt: an endpoint picked (for a retry, one not tried yet where there is one),
    /// its deadline armed, a connection taken or opened, the request sent.
    func startAttempt(on cluster: UpstreamCluster) {
        let hashKey = cluster.ring == nil ? nil : cluster.hashKey(for: exchange.requestHead, peer: exchange.peer)
        let fresh = cluster.pickPool(excluding: triedEndpoints, hashKey: hashKey)
        guard let pick = fresh ?? (retries == nil ? nil : cluster.pickPool(hashKey: hashKey)) else {
            return upstreamFailed(.noEndpoint(cluster.config.name))
        }
        if retries != nil { triedEndpoints.insert(pick.endpointIndex) }
        exchange.attemptCount += 1
        // The body goes upstream from now on: a client waiting for `100 Continue` sends it.
        handler.requestBodyNeeded()
        let now = handler.loop.eventLoop.now
        if let retries {
            handler.armUpstreamDeadline(retries.attemptDeadline(startingAt: now))
        } else {
            handler.armUpstreamDeadline(now + (exchange.route?.edits?.timeout ?? cluster.requestTimeout))
        }
        connect(to: pick, of: cluster)
    }

    /// The attempt at the endpoint `pick`: a warm connection at once, else a connect. A
    /// failover after a failed connect comes here again with another endpoint.
    func connect(to pick: UpstreamPick, of cluster: UpstreamCluster) {
        let pool = pick.pool
        attempt = pick
        attemptCluster = cluster
        let attemptNumber = exchange.attemptCount
        exchange.upstreamTarget = pool.endpointText
        state = .connecting
        // Only an HTTP/1.1 upstream connection can become a tunnel.
        let tunnel = handler.upgradeRequested && pool is UpstreamPool && exchange.framing.isWebSocket
        if tunnel { upgrade = .requested }
        var head = UpstreamRequestHead.make(from: exchange, keepingUpgrade: tunnel)
        // Envoy's `x-envoy-attempt-count`, on routes that may retry.
        if retries != nil { head.headers.replaceOrAdd(name: "x-luxy-attempt-count", value: String(attemptNumber)) }
        handler.setReadsPaused(false)
        // A warm connection is taken at once, without a callback; only a connect waits.
        if let connection = pool.takeIdleConnection() { return send(head, on: connection) }
        // A connect to wait for: bounded by `max_pending_requests`, so nothing queues unbounded.
        let breaker = cluster.breaker
        guard breaker.admitPending() else { return upstreamFailed(.overloaded(.pendingRequests)) }
        pool.acquireConnection { [self] result in
            breaker.pendingEnded()
            // An attempt given up meanwhile (its per-try timeout) finds a newer one, or none.
            guard exchange.attemptCount == attemptNumber else {
                if case .success(let connection) = result { pool.releaseConnection(connection) }
                return
            }
            switch result {
            case .success(let connection):
                guard case .connecting = state else { return pool.releaseConnection(connection) }
                send(head, on: connection)
            case .failure(let error):
                if failOver(after: error, cluster: cluster) { return }
                upstreamFailed(error)
            }
        }
    }

    /// nginx's default `proxy_next_upstream error timeout`: a connect that failed sent
    /// nothing, so another endpoint may take the request whatever its method, once per
    /// endpoint. Within the request timeout armed by `forward(to:)`.
    private func failOver(after error: UpstreamError, cluster: UpstreamCluster) -> Bool {
        guard error.isConnectFailure, case .connecting = state, !isFinished, let failed = attempt else { return false }
        triedEndpoints.insert(failed.endpointIndex)
        endAttempt(.gatewayFailure)
        let hashKey = cluster.ring == nil ? nil : cluster.hashKey(for: exchange.requestHead, peer: exchange.peer)
        guard let next = cluster.pickPool(excluding: triedEndpoints, hashKey: hashKey) else { return false }
        stats.increment("upstream_connect_failover")
        connect(to: next, of: cluster)
        return true
    }

    /// The current attempt's outcome goes to its cluster (outlier detection, endpoint figures).
    func endAttempt(_ outcome: UpstreamAttemptOutcome) {
        guard let attempt else { return }
        self.attempt = nil
        attemptCluster?.recordOutcome(of: attempt, outcome)
    }

    private func send(_ head: HTTPRequestHead, on connection: any UpstreamConnection) {
        upstream = connection
        state = .forwarding(connection)
        connection.begin(head, receiver: self)
        let body: ByteBuffer?
        if exchange.attemptCount > 1, let retries {
            body = retries.replayBody
        } else {
            body = exchange.request.take()
            if let body, retries != nil { retries!.record(body) }
        }
        if let body, body.readableBytes > 0 {
            connection.send(.body(.byteBuffer(body)), flush: false)
        }
        if requestComplete {
            connection.send(.end(exchange.requestTrailers), flush: true)
        } else {
            requestSink = connection
            connection.flush()
        }
        // Reads may have paused while the body piled up during the connect.
        handler.setReadsPaused(false)
    }

    // MARK: Downstream request body

    func requestBodyPart(_ part: ByteBuffer) {
        if let stream = exchange.requestChunks, stream.take(part) {
            stream.deliver()
            // The stage is in a step on an earlier chunk: the client waits until it asks
            // for the next one (`streamWantsMore`).
            if stream.isHolding { handler.setReadsPaused(true) }
            return
        }
        passRequestPart(part)
    }

    /// A part of the request body past every stage that streams it: upstream, or held until
    /// the request can go there.
    func passRequestPart(_ part: ByteBuffer) {
        if let requestSink {
            if retries != nil { retries!.record(part) }
            requestSink.send(.body(.byteBuffer(part)), flush: true)
            return
        }
        switch state {
        case .forwarding:
            break
        case .requestStages, .connecting, .backingOff:
            guard exchange.request.append(part) else { return }
            if !exchange.request.isWanted, exchange.request.bufferedBytes > Self.streamingHighWater {
                handler.setReadsPaused(true)
            }
        case .responseStages, .streamingResponse, .done:
            break  // answered before the body ended (local reply): the rest is discarded
        }
    }

    func requestEnded(_ trailers: HTTPHeaders?) {
        exchange.requestTrailers = trailers
        if let stream = exchange.requestChunks, stream.takeEnd() { return }
        passRequestEnd()
    }

    /// The request's end, past every stage that streams its body.
    func passRequestEnd() {
        requestComplete = true
        if let requestSink {
            self.requestSink = nil
            requestSink.send(.end(exchange.requestTrailers), flush: true)
        } else {
            exchange.request.complete()
        }
    }

    func failRequestBody(_ error: HTTPExchange.BodyError) {
        switch error {
        case .tooLarge:
            stats.increment("downstream_body_too_large")
            handler.quiesce()
            sendLocal(LocalReply.error(.payloadTooLarge, error.description, close: true), runResponseStages: false)
        case .aborted:
            finish()
        }
    }

    // MARK: Response

    func sendLocal(_ reply: LocalReply, runResponseStages: Bool) {
        guard !isFinished else { return }
        cancelTimer()
        if !runResponseStages { enteredStages = 0 }
        exchange.responseHead = reply.head
        exchange.response.hasBody = reply.body.readableBytes > 0
        if reply.body.readableBytes > 0 { _ = exchange.response.append(reply.body) }
        exchange.response.complete()
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
        let stage = stages[index]
        stageIndex = index
        guard stage.handlesResponse else { return runResponseStage(index - 1) }
        stage.runResponse(exchange)
    }

    private func responseStageFinished(_ verdict: StageVerdict) {
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
            replaceResponse(LocalReply.error(.internalServerError, "plugin '\(stages[stageIndex].name)' failed"))
        }
    }

    /// The stages left a head over the limits a client's head must keep: it is not sent, and
    /// the request fails with 500 and the reason in the log (no one stage is to blame: any of
    /// them may have added to it).
    private func stagesOverstepped(_ what: String, _ violation: String) {
        stats.increment("plugin_headers_over_limit")
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
        exchange.response.abort()
        enteredStages = 0
        responseEnded = true
        exchange.responseHead = reply.head
        exchange.responseTrailers = nil
        exchange.response.replace(with: reply.body)
        writeResponse()
    }

    func writeResponse() {
        guard var head = exchange.responseHead else { return }
        if !stages.isEmpty, let violation = serving.emittedHeadLimits.violation(head.headers) {
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
        handler.writeResponseHead(head)
        if let body = exchange.response.take(), body.readableBytes > 0 {
            handler.writeResponseBody(body, flush: false)
        }
        if responseEnded {
            handler.writeResponseEnd(exchange.responseTrailers)
            finish()
        } else {
            // Inside an upstream read, its read-complete flushes the head together with the
            // body that came in the same read, in one write; after stages that waited, now.
            if !insideUpstreamRead { handler.context?.flush() }
            // Reading may have paused while the stages ran; now the client sets the pace.
            upstream?.setReading(handler.context?.channel.isWritable ?? true)
        }
    }

    func downstreamWritabilityChanged(_ writable: Bool) {
        upstream?.setReading(writable)
    }

    var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    /// The upstream request timeout stops applying (an answer came, or the exchange is over).
    func cancelTimer() {
        handler.clearUpstreamDeadline()
    }

    /// The exchange's upstream deadline passed: the route's timeout (504), or, on a route with
    /// a retry policy, the attempt's per-try timeout or the end of a back-off.
    func upstreamTimedOut() {
        upstream?.abandon()
        upstream = nil
        guard let retries, handler.loop.eventLoop.now < retries.deadline else { return upstreamFailed(.timeout) }
        if case .backingOff = state, let cluster = admittedCluster { return startAttempt(on: cluster) }
        upstreamFailed(.perTryTimeout)
    }

    func finish() {
        guard !isFinished else { return }
        state = .done
        endAttempt(.abandoned)
        cancelTimer()
        upstream = nil
        requestSink = nil
        if let cluster = admittedCluster {
            admittedCluster = nil
            cluster.breaker.requestEnded()
            if case .held = retries?.slot { cluster.breaker.retryEnded() }
        }
        // Whatever paused reading for this exchange is over; the next request must be read.
        handler.setReadsPaused(false)
        if exchange.pluginState != nil { chain?.finishExchange?(exchange) }
        generation.exchangeEnded()
        handler.exchangeFinished(self)
    }

    /// The client went away or sent garbage mid-request.
    func abort() {
        guard !isFinished else { return }
        upstream?.abandon()
        // Done first: a stage waiting on the body fails when it is aborted, and its verdict
        // must find the exchange over rather than answer a client that is gone.
        finish()
        exchange.request.abort()
        exchange.response.abort()
        exchange.requestChunks?.abort()
        exchange.responseChunks?.abort()
    }
}

@available(*, unavailable)
extension HTTPExchangeDriver: Sendable {}

extension StageVerdict {
    fileprivate var isResponded: Bool {
        if case .responded = self { return true }
        return false
    }
}
