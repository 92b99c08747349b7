import LuxyConfig
import NIOCore
import NIOHTTP1

/// Carries one request through its chain: routing, the Lua stages on the request, the route's
/// action (upstream, direct response, echo), the stages on the response in reverse, and the
/// response back to the client. Lives on the connection's loop; one per request.
final class HTTPExchangeDriver {
    private enum State {
        case requestStages
        case connecting
        case forwarding(any UpstreamConnection)
        case responseStages
        case streamingResponse
        case done
    }

    private unowned let handler: HTTPProxyHandler
    private let generation: LoopGeneration
    let exchange: HTTPExchange
    private var state = State.requestStages
    private var chain: HTTPStageChain?
    private var stages: [HTTPStage] = []
    /// Stages whose request phase ran; their response phases run in reverse.
    private var enteredStages = 0
    private var requestComplete = false
    private var responseEnded = false
    private var timer: Scheduled<Void>?
    private var upstream: (any UpstreamConnection)?

    /// While the body has nowhere to go yet, buffer this much before withholding reads.
    private static let streamingHighWater = 256 * 1024

    init(handler: HTTPProxyHandler, generation: LoopGeneration, head: HTTPRequestHead,
         local: SocketAddress?, remote: SocketAddress?) {
        self.handler = handler
        self.generation = generation
        let limits = generation.configuration.limits
        self.exchange = HTTPExchange(
            listenerName: handler.listener.name, direction: handler.listener.direction,
            eventLoop: handler.loop.eventLoop, head: head, local: local, remote: remote,
            maxBufferedBodyBytes: limits.maxBufferedBodyBytes, services: generation.services)
        generation.exchangeStarted()
    }

    private var stats: ProxyStats { handler.loop.stats }

    func start() {
        guard let route = generation.routers[handler.listener.name]?.route(exchange.requestHead) else {
            stats.increment("downstream_no_route")
            return sendLocal(LocalReply.error(.notFound, "no route for \(exchange.requestHead.uri)"), runResponseStages: false)
        }
        exchange.route = route
        if let chain = generation.chains[handler.listener.chain] {
            self.chain = chain
            stages = chain.stages(for: route)
        }
        runRequestStage(0)
    }

    // MARK: Request stages

    private func runRequestStage(_ index: Int) {
        guard case .requestStages = state else { return }
        guard index < stages.count else { return dispatch() }
        let stage = stages[index]
        enteredStages = index + 1
        guard stage.handlesRequest else { return runRequestStage(index + 1) }
        stage.runRequest(exchange) { [self] verdict in
            // body() over max_buffered_body_bytes is the client's doing: 413, not a plugin 500,
            // and a fail-open stage must not let the oversized body through either.
            if exchange.request.overflowed, !verdict.isResponded {
                return failRequestBody(.tooLarge(limit: exchange.maxBufferedBodyBytes))
            }
            switch verdict {
            case .proceed:
                runRequestStage(index + 1)
            case .responded:
                let reply = exchange.localReply.map { ($0.head, $0.body ?? ByteBuffer()) }
                    ?? LocalReply.error(.internalServerError, "stage answered nothing")
                // Envoy's order: a local reply passes the response phase of the stages before it.
                enteredStages = index
                sendLocal(reply, runResponseStages: true)
            case .failed:
                enteredStages = 0
                // The reason (file:line, message) is logged by the stage; clients only learn which
                // plugin failed, not the script's internals.
                sendLocal(LocalReply.error(.internalServerError, "plugin '\(stage.name)' failed"),
                          runResponseStages: false)
            }
        }
    }

    private func dispatch() {
        guard let route = exchange.route else { return }
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

    private func forward(to clusterName: String) {
        guard let cluster = generation.services.cluster(named: clusterName) else {
            return upstreamFailed(.unknownCluster(clusterName))
        }
        guard let pool = cluster.pickPool() else { return upstreamFailed(.noEndpoint(clusterName)) }
        exchange.upstreamTarget = pool.endpoint.description
        state = .connecting
        timer = exchange.eventLoop.assumeIsolated().scheduleTask(in: cluster.requestTimeout) { [self] in
            upstream?.abandon()
            upstream = nil
            upstreamFailed(.timeout)
        }
        let head = UpstreamRequestHead.make(from: exchange)
        handler.setReadsPaused(false)
        pool.acquireConnection { [self] result in
            switch result {
            case .success(let connection):
                guard case .connecting = state else { return pool.releaseConnection(connection) }
                upstream = connection
                state = .forwarding(connection)
                connection.begin(head, receiver: self)
                if let body = exchange.request.take(), body.readableBytes > 0 {
                    connection.send(.body(.byteBuffer(body)), flush: false)
                }
                if requestComplete {
                    connection.send(.end(exchange.requestTrailers), flush: true)
                } else {
                    connection.flush()
                }
            case .failure(let error):
                upstreamFailed(error)
            }
        }
    }

    // MARK: Downstream request body

    func requestBodyPart(_ part: ByteBuffer) {
        switch state {
        case .forwarding(let connection):
            connection.send(.body(.byteBuffer(part)), flush: true)
        case .requestStages, .connecting:
            guard exchange.request.append(part) else { return }
            if !exchange.request.isWanted, exchange.request.bufferedBytes > Self.streamingHighWater {
                handler.setReadsPaused(true)
            }
        case .responseStages, .streamingResponse, .done:
            break  // answered before the body ended (local reply): the rest is discarded
        }
    }

    func requestEnded(_ trailers: HTTPHeaders?) {
        requestComplete = true
        exchange.requestTrailers = trailers
        switch state {
        case .forwarding(let connection):
            connection.send(.end(trailers), flush: true)
        default:
            exchange.request.complete()
        }
    }

    private func failRequestBody(_ error: HTTPExchange.BodyError) {
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

    private func sendLocal(_ reply: (head: HTTPResponseHead, body: ByteBuffer), runResponseStages: Bool) {
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
    private func beginResponse() {
        state = .responseStages
        runResponseStage(enteredStages - 1)
    }

    private func runResponseStage(_ index: Int) {
        guard case .responseStages = state else { return }
        guard index >= 0 else { return writeResponse() }
        let stage = stages[index]
        guard stage.handlesResponse else { return runResponseStage(index - 1) }
        stage.runResponse(exchange) { [self] verdict in
            switch verdict {
            case .proceed, .responded:
                runResponseStage(index - 1)
            case .failed:
                if upstream != nil { upstream?.abandon(); upstream = nil }
                exchange.response.abort()
                enteredStages = 0
                responseEnded = true
                let reply = LocalReply.error(.internalServerError, "plugin '\(stage.name)' failed")
                exchange.responseHead = reply.head
                exchange.responseTrailers = nil
                exchange.response.replace(with: reply.body)
                writeResponse()
            }
        }
    }

    private func writeResponse() {
        guard var head = exchange.responseHead else { return }
        state = .streamingResponse
        head.version = .http1_1
        if head.headers.first(name: "content-length") == nil, exchange.response.isComplete {
            head.headers.setContentLength(exchange.response.bufferedBytes)
        }
        handler.writeResponseHead(head)
        if let body = exchange.response.take(), body.readableBytes > 0 {
            handler.writeResponseBody(body, flush: false)
        }
        if responseEnded {
            handler.writeResponseEnd(exchange.responseTrailers)
            finish()
        } else {
            upstream?.flush()
            handler.context?.flush()
        }
    }

    func downstreamWritabilityChanged(_ writable: Bool) {
        upstream?.setReading(writable)
    }

    private var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    private func finish() {
        guard !isFinished else { return }
        state = .done
        cancelTimer()
        upstream = nil
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
    }
}

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
    func upstreamResponseHead(_ head: HTTPResponseHead) {
        // The request timeout bounds the wait for the answer; a body that keeps streaming
        // after it (a download, server-sent events) is not cut.
        cancelTimer()
        var head = head
        HopByHopHeaders.strip(&head.headers)
        exchange.responseHead = head
        exchange.response.hasBody = Self.responseHasBody(head, to: exchange.requestHead.method)
        beginResponse()
    }

    func upstreamResponseBody(_ part: ByteBuffer) {
        switch state {
        case .streamingResponse:
            handler.writeResponseBody(part)
        case .responseStages:
            if !exchange.response.append(part) {
                upstream?.abandon()
                upstream = nil
            }
        default:
            break
        }
    }

    func upstreamResponseEnd(_ trailers: HTTPHeaders?) {
        cancelTimer()
        upstream = nil
        responseEnded = true
        switch state {
        case .streamingResponse:
            exchange.responseTrailers = trailers
            handler.writeResponseEnd(trailers)
            finish()
        case .responseStages:
            // Stages may still read or change them (`trailers()`); they go out with the end.
            exchange.responseTrailers = trailers
            exchange.response.complete()
        default:
            break
        }
    }

    func upstreamFailed(_ error: UpstreamError) {
        cancelTimer()
        upstream = nil
        stats.increment(error.counterName)
        switch state {
        case .requestStages, .connecting, .forwarding:
            sendLocal(LocalReply.error(error.status, error.description), runResponseStages: true)
        case .responseStages:
            exchange.response.abort()
            handler.abortResponse()
            finish()
        case .streamingResponse:
            handler.abortResponse()
            finish()
        case .done:
            break
        }
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
