import LuxyConfig
import NIOCore
import NIOHTTP1

/// A route's `retry_policy:` made ready once per generation: which outcomes of an attempt are
/// retried, how often, and the back-off between attempts. Immutable; a class so the route
/// match each request copies carries one reference, not the policy.
public final class RetryPolicy: Sendable {
    let conditions: RetryPolicyConfiguration.Conditions
    let numRetries: Int
    let perTryTimeout: TimeAmount?
    let backOffBase: TimeAmount
    let backOffMax: TimeAmount
    let retriableMethods: [HTTPMethod]
    /// How much request body is kept to be sent again (`per_request_buffer_limit_bytes`).
    let bufferLimitBytes: Int

    init(_ config: RetryPolicyConfiguration, bufferLimitBytes: Int) {
        conditions = config.retryOn
        numRetries = config.numRetries
        perTryTimeout = config.perTryTimeoutMilliseconds.map { .milliseconds(Int64($0)) }
        backOffBase = .milliseconds(Int64(config.backOffBaseMilliseconds))
        backOffMax = .milliseconds(Int64(config.backOffMaxMilliseconds))
        retriableMethods = config.retriableMethods.map { HTTPMethod(rawValue: $0) }
        self.bufferLimitBytes = bufferLimitBytes
    }

    func retries(_ method: HTTPMethod) -> Bool {
        retriableMethods.contains(method)
    }

    /// Whether an answer with this status is worth another attempt.
    func retries(_ status: HTTPResponseStatus) -> Bool {
        let code = status.code
        if conditions.contains(.serverError), (500...599).contains(code) { return true }
        if conditions.contains(.gatewayError), code == 502 || code == 503 || code == 504 { return true }
        if conditions.contains(.retriable4xx), code == 409 { return true }
        return false
    }

    /// Whether an attempt that got no answer is worth another one (Envoy's mapping: `5xx` and
    /// `gateway-error` take every failure to get an answer; the others their own kind).
    func retries(_ error: UpstreamError) -> Bool {
        switch error {
        case .connectFailed, .connectTimeout, .tlsHandshakeFailed:
            return !conditions.isDisjoint(with: [.serverError, .gatewayError, .connectFailure])
        case .reset, .malformedResponse, .perTryTimeout:
            return !conditions.isDisjoint(with: [.serverError, .gatewayError, .reset])
        case .refusedStream:
            return !conditions.isDisjoint(with: [.serverError, .gatewayError, .refusedStream, .reset])
        // Nothing an endpoint did: another attempt would meet the same.
        case .unknownCluster, .noEndpoint, .timeout, .responseTooLarge, .overloaded, .noOriginalDestination,
             .originalDestinationIsProxy:
            return false
        }
    }

    /// Envoy's back-off with full jitter: a random wait up to base × 2^(retry−1), capped at max.
    func backOff(beforeRetry retry: Int) -> TimeAmount {
        let shift = min(max(retry - 1, 0), 20)
        let ceiling = min(backOffBase.nanoseconds << shift, backOffMax.nanoseconds)
        return .nanoseconds(Int64.random(in: 0...max(ceiling, 0)))
    }
}
