import LuxyConfig
import NIOCore
import NIOHTTP1

// The route's `retry_policy`: an attempt that failed, or got an answer the policy retries, is
// made again after a back-off, on another endpoint where there is one. The wait and each
// attempt's `per_try_timeout` use the connection's one deadline timer (`armUpstreamDeadline`),
// so a retry schedules no timer of its own. Split from HTTPExchangeDriver+Upstream.swift.
extension HTTPExchangeDriver {
    /// An answer came whose status the policy retries: true when a retry was started instead
    /// of the answer going on (its connection is dropped; the response stages never see it).
    func retryAfterAnswer(_ status: HTTPResponseStatus) -> Bool {
        guard let retries, retries.policy.retries(status) else { return false }
        return retryIfAllowed(because: "status \(status.code)", unprocessed: false)
    }

    /// An attempt got no answer: true when a retry was started.
    func retryAfterFailure(_ error: UpstreamError) -> Bool {
        switch state {
        case .connecting, .forwarding: break
        // Once the response began there is nothing to take back.
        default: return false
        }
        guard let retries, retries.policy.retries(error) else { return false }
        // Nothing reached the endpoint, or an h2 upstream promised it did not process the
        // stream (REFUSED_STREAM): any method may go again.
        let unprocessed = error.isConnectFailure || error == .refusedStream
        return retryIfAllowed(because: error.description, unprocessed: unprocessed)
    }

    private func retryIfAllowed(because reason: String, unprocessed: Bool) -> Bool {
        guard var retries, let cluster = admittedCluster else { return false }
        guard retries.retriesMade < retries.policy.numRetries else {
            stats.increment("upstream_rq_retry_limit_exceeded")
            exchange.responseFlags.insert(.upstreamRetryLimitExceeded)
            return false
        }
        // A POST or PATCH may have done its work before failing: not sent twice unless the
        // policy's `retriable_methods` says so, or the endpoint never processed it.
        guard unprocessed || retries.policy.retries(exchange.requestHead.method) else { return false }
        // Only a request sent whole and kept whole can be sent again.
        guard requestComplete, retries.bodyIsReplayable else {
            stats.increment("upstream_rq_retry_body_not_replayable")
            return false
        }
        let now = handler.loop.clock.now
        guard now < retries.deadline else { return false }
        if case .none = retries.slot {
            guard cluster.breaker.admitRetry() else {
                stats.increment(CircuitBreakerLimit.retries.counterName)
                return false
            }
            retries.slot = .held
        }
        retries.retriesMade += 1
        let wait = retries.policy.backOff(beforeRetry: retries.retriesMade)
        self.retries = retries
        stats.increment("upstream_rq_retry")
        handler.loop.logger.debug("retrying upstream request", metadata: [
            "route": "\(exchange.route?.routeName ?? "")", "endpoint": "\(exchange.upstreamTarget ?? "")",
            "reason": "\(reason)", "retry": "\(retries.retriesMade)",
        ])
        cancelTimer()
        upstream?.abandon()
        upstream = nil
        requestSink = nil
        state = .backingOff
        // The back-off ends on the connection's timer (`upstreamTimedOut`), never past the
        // route's timeout.
        handler.armUpstreamDeadline(min(now + wait, retries.deadline))
        return true
    }
}
