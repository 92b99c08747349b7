import LuxyConfig
import NIOCore
import NIOHTTP1

// The way upstream: the cluster's circuit breaker, one attempt per endpoint picked (a failover
// after a failed connect, a retry after a failed attempt), and the request head and buffered
// body sent on the connection. Split from HTTPExchangeDriver.swift, which carries the request
// through its stages; the answer comes back through HTTPExchangeDriver+Upstream.swift.
extension HTTPExchangeDriver {
    func forward(to clusterName: String) {
        guard let cluster = generation.services.cluster(named: clusterName) else {
            return upstreamFailed(.unknownCluster(clusterName))
        }
        guard cluster.breaker.admitRequest() else { return upstreamFailed(.overloaded(.requests)) }
        admittedCluster = cluster
        if let policy = exchange.route?.retryPolicy {
            let timeout = exchange.route?.edits?.timeout ?? cluster.requestTimeout
            retries = RetryAttempts(policy: policy, deadline: handler.loop.clock.now + timeout)
        }
        startAttempt(on: cluster)
    }

    /// One attempt: an endpoint picked (for a retry, one not tried yet where there is one),
    /// its deadline armed, a connection taken or opened, the request sent.
    func startAttempt(on cluster: UpstreamCluster) {
        let hashKey = cluster.hashKey(for: exchange)
        func pick(excluding tried: UpstreamEndpointSet) -> Result<UpstreamPick, UpstreamError> {
            generation.services.pick(on: cluster, excluding: tried, hashKey: hashKey,
                                     originalDestination: exchange.peer.originalDestination,
                                     direct: exchange.peer.directLocal)
        }
        var picked = pick(excluding: triedEndpoints)
        // A retry that tried every endpoint goes back to any of them.
        if case .failure(.noEndpoint) = picked, retries != nil { picked = pick(excluding: .none) }
        let pick: UpstreamPick
        switch picked {
        case .success(let chosen): pick = chosen
        case .failure(let error): return upstreamFailed(error)
        }
        if retries != nil { triedEndpoints.insert(pick.endpointIndex) }
        exchange.attemptCount += 1
        // The body goes upstream from now on: a client waiting for `100 Continue` sends it.
        handler.requestBodyNeeded()
        let now = handler.loop.clock.now
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
        // A head that will not go as it came is prepared now, before any wait: the response
        // and log phases of an attempt that fails before it is sent see it as it would have gone.
        let prepared = requestHeadMayGoAsItCame(keepingUpgrade: tunnel)
            ? nil : preparedRequestHead(keepingUpgrade: tunnel, attemptNumber: attemptNumber)
        handler.setReadsPaused(false)
        // A warm connection is taken at once, without a callback; only a connect waits.
        if let connection = pool.takeIdleConnection() {
            return send(prepared, on: connection, keepingUpgrade: tunnel, attemptNumber: attemptNumber)
        }
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
                send(prepared, on: connection, keepingUpgrade: tunnel, attemptNumber: attemptNumber)
            case .failure(let error):
                if failOver(after: error, cluster: cluster) { return }
                upstreamFailed(error)
            }
        }
    }

    /// No stage reads or changes either head, and no retry policy: a retried attempt counts
    /// itself in a request field, and a retried status must be read from its response head.
    private var noStageOrRetryTouchesTheHeads: Bool {
        selection.stages.isEmpty && retries == nil
    }

    /// The client's head may go as it came (to an HTTP/1.1 connection): nothing changed it and
    /// nothing reads the one that goes, that is no stage, no route edit of the request, no
    /// retry policy, no tunnel, a first attempt.
    private func requestHeadMayGoAsItCame(keepingUpgrade tunnel: Bool) -> Bool {
        guard requestHeadAsItCame != nil, noStageOrRetryTouchesTheHeads, !tunnel, !exchange.clientAddressForwarded
        else { return false }
        return exchange.route?.edits?.changesRequest != true
    }

    /// The head as it goes upstream, prepared where the exchange holds it (`UpstreamRequestHead`).
    private func preparedRequestHead(keepingUpgrade tunnel: Bool, attemptNumber: Int) -> HTTPRequestHead {
        var head = UpstreamRequestHead.make(from: exchange, keepingUpgrade: tunnel)
        // Envoy's `x-envoy-attempt-count`, on routes that may retry.
        if retries != nil { head.headers.replaceOrAdd(name: "x-luxy-attempt-count", value: String(attemptNumber)) }
        return head
    }

    /// No stage, no route edit and no retry policy reads or changes the response head, and
    /// the client reads HTTP/1.1 with a body: then the head can go on as the upstream's bytes
    /// say it (`ForwardedResponseHead`). An HTTP/1.0 client, a HEAD, an upgrade and an h2
    /// stream (whose codec takes heads) get one made into an `HTTPResponseHead`.
    private func responseHeadMayGoAsItCame(to method: HTTPMethod) -> Bool {
        guard noStageOrRetryTouchesTheHeads, upgrade == .none, method != .HEAD, !handler.isHTTP2Stream,
              exchange.requestHead.version == .http1_1
        else { return false }
        return exchange.route?.edits?.changesResponse != true
    }

    /// nginx's default `proxy_next_upstream error timeout`: a connect that failed sent
    /// nothing, so another endpoint may take the request whatever its method, once per
    /// endpoint. Within the request timeout armed by `forward(to:)`.
    private func failOver(after error: UpstreamError, cluster: UpstreamCluster) -> Bool {
        guard error.isConnectFailure, case .connecting = state, !isFinished, let failed = attempt else { return false }
        triedEndpoints.insert(failed.endpointIndex)
        endAttempt(.gatewayFailure)
        let hashKey = cluster.hashKey(for: exchange)
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

    /// `prepared`: the head `connect` prepared; nil when it may go as it came. It does, as the
    /// client's bytes completed with the forwarding fields, where the connection writes heads as
    /// bytes; else (an h2 connection) it is prepared here. The kept bytes are let go of either
    /// way: they hold the client's read buffer.
    private func send(_ prepared: HTTPRequestHead?, on connection: any UpstreamConnection, keepingUpgrade tunnel: Bool,
                      attemptNumber: Int) {
        upstream = connection
        state = .forwarding(connection)
        forwardsResponseHeadAsItCame = responseHeadMayGoAsItCame(to: exchange.requestHead.method)
        let asItCame = requestHeadAsItCame
        requestHeadAsItCame = nil
        if let prepared {
            connection.begin(prepared, receiver: self)
        } else if let asItCame, connection.writesHeadsAsBytes {
            let forwarded = UpstreamRequestHead.forwarded(asItCame, of: exchange, headBuffer: handler.loop.headBuffer,
                                                          allocator: handler.allocator)
            connection.begin(exchange.requestHead, forwarded: forwarded, receiver: self)
        } else {
            connection.begin(preparedRequestHead(keepingUpgrade: tunnel, attemptNumber: attemptNumber), receiver: self)
        }
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
            connection.send(.end(exchange.requestTrailers), flush: false)
        } else {
            requestSink = connection
        }
        // A request read whole in the client's read (the usual GET: its end comes right
        // behind its head) goes out in one write when that read completes.
        handler.flushUpstream(connection)
        // Reads may have paused while the body piled up during the connect.
        handler.setReadsPaused(false)
    }
}
