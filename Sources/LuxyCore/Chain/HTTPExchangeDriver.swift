import LuxyConfig
import NIOCore
import NIOHTTP1

/// Carries one request through its chain: routing, the Lua stages on the request, the route's
/// action (upstream, direct response, echo), the stages on the response in reverse, and the
/// response back to the client. Lives on the connection's loop; one per request.
///
/// This file has its state, the request stages and the end of the exchange; the rest is
/// split by concern: `+RequestBody` (the client's body), `+Attempts` (breaker, endpoint
/// picks, failover, sending), `+Retry`, `+Upstream` (the answer as it arrives), `+Response`
/// (response stages and writing), `+BodyChunks` (a stage streaming the body).
final class HTTPExchangeDriver {
    enum State {
        case requestStages
        case connecting
        case forwarding(any UpstreamConnection)
        /// An attempt failed and the retry policy waits (the back-off) before the next one.
        case backingOff
        case responseStages
        case streamingResponse
        /// The exchange is over for the client and the upstream; the stages' log phases run.
        case logging
        /// A log phase waits (a slice of its budget): the connection went on without the
        /// exchange, which ends when its last log phase does.
        case loggingDetached
        case done
    }

    /// The client connection's handler. Strong and constant, so reaching it costs no reference
    /// counting (an unowned reference cost two atomic operations per use, 13 per request). The
    /// handler holds its current driver too; it lets go of it when the exchange finishes, is
    /// aborted, or the handler leaves the pipeline, which ends the cycle. A driver that goes on
    /// without the handler holding it (its log phases detached) keeps the handler until it ends.
    let handler: HTTPProxyHandler
    let generation: LoopGeneration
    let serving: ListenerServing
    let exchange: HTTPExchange
    var state = State.requestStages
    var chain: HTTPStageChain?
    /// The stages this request runs, their phases, and those with a log phase: its chain's
    /// selection for its route (none without a chain).
    private(set) var selection = HTTPStageSelection.none
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
    /// The client's head as it came, until the request goes upstream, where it goes as it
    /// came if nothing changed it (`HTTPExchangeDriver+Attempts`); let go of as soon as a
    /// stage may change it.
    var requestHeadAsItCame: RequestHeadAsItCame?
    /// Nothing reads or changes the response head on its way to the client: the upstream's
    /// goes on as it came, as bytes (`ForwardedResponseHead`). Decided as the request goes
    /// upstream (`HTTPExchangeDriver+Attempts`).
    var forwardsResponseHeadAsItCame = false
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
    /// The driver itself while a log phase waits (a slice of its budget): the exchange must
    /// still end, release the plugin state and the generation, even if the connection closed
    /// and let go of the driver meanwhile.
    private var retainedWhileLogging: HTTPExchangeDriver?

    /// While the body has nowhere to go yet, buffer this much before withholding reads.
    static let streamingHighWater = 256 * 1024

    /// `headAsItCame`: the head's bytes, when it may go upstream as it came.
    init(handler: HTTPProxyHandler, serving: ListenerServing, head: HTTPRequestHead, framing: RequestFraming,
         peer: ConnectionPeer, headAsItCame: RequestHeadAsItCame? = nil) {
        self.handler = handler
        self.requestHeadAsItCame = headAsItCame
        self.serving = serving
        self.generation = serving.generation
        self.stats = handler.loop.stats
        self.exchange = HTTPExchange(
            listenerName: serving.listener.name, direction: serving.listener.direction,
            eventLoop: handler.loop.eventLoop, head: head, framing: framing, peer: peer,
            maxBufferedBodyBytes: generation.configuration.limits.maxBufferedBodyBytes, services: generation.services,
            routingFieldNames: serving.router.routingFieldNames,
            trustedForwardedHops: serving.listener.xffNumTrustedHops, startTime: handler.loop.clock.now)
        generation.exchangeStarted()
        exchange.flowControl = self
    }

    deinit {
        // The exchange may outlive its driver (a stage still holds it): its verdicts then go
        // nowhere, as they would have through a weak reference.
        exchange.flowControl = nil
    }

    func start() {
        guard let route = routeRequest() else {
            stats.increment("downstream_no_route")
            exchange.responseFlags.insert(.noRouteFound)
            // Only the log phases of the stages scoped to no service see such a request.
            if let chain = serving.chain {
                self.chain = chain
                selection = chain.unrouted
            }
            return sendLocal(LocalReply.error(.notFound, "no route for \(exchange.requestHead.uri)"), runResponseStages: false)
        }
        exchange.route = route
        if let chain = serving.chain {
            self.chain = chain
            selection = chain.stages(for: route)
            // A stage may change the head, and may wait: the client's read buffer is not held.
            if !selection.stages.isEmpty { requestHeadAsItCame = nil }
        }
        if exchange.framing.isWebSocket, !route.upgrades.contains("websocket") {
            // Envoy's answer to an upgrade its route was not configured for. (Other upgrades,
            // h2c included, can't be tunnelled: `Upgrade` is dropped as hop-by-hop and the
            // request goes on as a plain one, which RFC 9110 §7.8 allows.)
            stats.increment("downstream_upgrade_refused")
            exchange.responseFlags.insert(.localReply)
            return sendLocal(LocalReply.error(.forbidden, "upgrade to websocket is not allowed on this route"),
                             runResponseStages: false)
        }
        runRequestStage(0)
    }

    // MARK: Request stages

    func runRequestStage(_ index: Int) {
        guard case .requestStages = state else { return }
        guard index < selection.stages.count else { return dispatch() }
        stageIndex = index
        enteredStages = index + 1
        guard selection.phases[index].contains(.request) else { return runRequestStage(index + 1) }
        selection.stages[index].runRequest(exchange)
    }

    /// Where every stage's verdict comes in (`HTTPExchange.resume`), for the stage at
    /// `stageIndex` in the phase `state` says.
    func stageFinished(_ verdict: StageVerdict) {
        switch state {
        case .requestStages: requestStageFinished(verdict)
        case .responseStages: responseStageFinished(verdict)
        case .logging, .loggingDetached: runLogStage(stageIndex + 1)
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
            exchange.responseFlags.insert(.localReply)
            sendLocal(reply, runResponseStages: true)
        case .failed:
            enteredStages = 0
            exchange.responseFlags.insert(.pluginFailure)
            stats.increment("downstream_rq_plugin_failed")
            // The reason (file:line, message) is logged by the stage; clients only learn which
            // plugin failed, not the script's internals.
            sendLocal(LocalReply.error(.internalServerError, "plugin '\(selection.stages[index].name)' failed"),
                      runResponseStages: false)
        }
    }

    func dispatch() {
        if exchange.routeCleared {
            // The stages already chosen stay (Envoy's filter chain does too); the action,
            // cluster and service follow the request as the stages left it.
            guard let route = routeRequest() else {
                stats.increment("downstream_no_route")
                exchange.responseFlags.insert(.noRouteFound)
                return sendLocal(LocalReply.error(.notFound, "no route for \(exchange.requestHead.uri)"),
                                 runResponseStages: true)
            }
            exchange.route = route
        }
        guard let route = exchange.route else { return }
        // The route's own fields go on last, over what the stages left (Envoy's router does so).
        route.edits?.applyToRequest(&exchange.requestHead.headers)
        if !selection.stages.isEmpty, let violation = serving.emittedHeadLimits.violation(exchange.requestHead.headers) {
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

    /// Over for the client and the upstream: late events (a connect, a verdict, a timer)
    /// find nothing to do, also while the log phases run.
    var isFinished: Bool {
        switch state {
        case .logging, .loggingDetached, .done: return true
        default: return false
        }
    }

    /// The response's end went to the client (it is written just before `finish`).
    private var responseEndWritten: Bool {
        if case .streamingResponse = state { return responseEnded }
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
        guard let retries, handler.loop.clock.now < retries.deadline else { return upstreamFailed(.timeout) }
        if case .backingOff = state, let cluster = admittedCluster { return startAttempt(on: cluster) }
        upstreamFailed(.perTryTimeout)
    }

    func finish() {
        guard !isFinished else { return }
        state = .logging
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
        // Without a log phase to run, the exchange ends here and now.
        guard !selection.logStages.isEmpty else { return ended() }
        exchange.duration = handler.loop.clock.now - exchange.startTime
        runLogStage(0)
        if case .logging = state {
            // A log phase waits: the connection need not (nor may it hold the driver's end
            // back: it may close and let go of it meanwhile).
            retainedWhileLogging = self
            state = .loggingDetached
            handler.exchangeFinished(self)
        }
    }

    /// The log phases, in the order of the response phases (last stage first), one after
    /// the other: a phase that waits (a slice of its budget) holds the exchange's end back.
    func runLogStage(_ index: Int) {
        switch state {
        case .logging, .loggingDetached: break
        default: return
        }
        guard index < selection.logStages.count else { return ended() }
        stageIndex = index
        selection.logStages[index].runLog(exchange)
    }

    /// Every log phase ran: the plugin state goes, the connection takes its next request
    /// (unless it did already, while a log phase waited: the handler may be gone since).
    private func ended() {
        let connectionWaits: Bool
        if case .logging = state { connectionWaits = true } else { connectionWaits = false }
        state = .done
        if exchange.pluginState != nil { chain?.finishExchange?(exchange) }
        generation.exchangeEnded()
        if connectionWaits { handler.exchangeFinished(self) }
        retainedWhileLogging = nil
    }

    /// The client went away or sent garbage mid-request.
    func abort() {
        guard !isFinished else { return }
        // The close that follows a response's end (`connection: close`) comes before
        // `finish`: only a client that left earlier disconnected.
        if !responseEndWritten { exchange.responseFlags.insert(.downstreamConnectionTermination) }
        upstream?.abandon()
        // Done first: a stage waiting on the body fails when it is aborted, and its verdict
        // must find the exchange over rather than answer a client that is gone.
        finish()
        exchange.abortBody(.request)
        exchange.abortBody(.response)
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
