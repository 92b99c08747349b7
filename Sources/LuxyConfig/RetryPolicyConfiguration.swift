/// A route's `retry_policy:` (Envoy's `RetryPolicy`): when an upstream attempt that failed is
/// tried again, how often, how long each try may take and how long to wait between tries.
/// An immutable value of the configuration snapshot.
public struct RetryPolicyConfiguration: Sendable, Equatable {
    /// What makes an attempt worth retrying (`retry_on`, Envoy's names).
    public struct Conditions: OptionSet, Sendable, Equatable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// `5xx`: any 5xx answer, and no answer at all (connect failure, reset, per-try timeout).
        public static let serverError = Conditions(rawValue: 1 << 0)
        /// `gateway-error`: a 502, 503 or 504 answer, and no answer at all.
        public static let gatewayError = Conditions(rawValue: 1 << 1)
        /// `reset`: the upstream closed or reset before answering, or the try timed out.
        public static let reset = Conditions(rawValue: 1 << 2)
        /// `connect-failure`: no connection could be made (refused, connect timeout, TLS).
        public static let connectFailure = Conditions(rawValue: 1 << 3)
        /// `retriable-4xx`: a 409 answer.
        public static let retriable4xx = Conditions(rawValue: 1 << 4)
        /// `refused-stream`: an HTTP/2 upstream refused the stream (REFUSED_STREAM).
        public static let refusedStream = Conditions(rawValue: 1 << 5)

        public static let names: [(name: String, condition: Conditions)] = [
            ("5xx", .serverError), ("gateway-error", .gatewayError), ("reset", .reset),
            ("connect-failure", .connectFailure), ("retriable-4xx", .retriable4xx),
            ("refused-stream", .refusedStream),
        ]
    }

    /// Methods retried unless the policy names others: the idempotent ones (RFC 9110 §9.2.2).
    public static let idempotentMethods = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

    public var retryOn: Conditions
    /// Retries after the first attempt (Envoy's `num_retries`, default 1).
    public var numRetries = 1
    /// Each attempt's own timeout (`per_try_timeout`); nil: only the route's timeout bounds them.
    public var perTryTimeoutMilliseconds: Int?
    /// `retry_back_off.base_interval` (Envoy's default 25 ms).
    public var backOffBaseMilliseconds = 25
    /// `retry_back_off.max_interval` (Envoy's default 10 × base).
    public var backOffMaxMilliseconds = 250
    /// `retriable_methods`: upper-case method names that may be retried.
    public var retriableMethods = RetryPolicyConfiguration.idempotentMethods
    public var location: SourceLocation

    public init(retryOn: Conditions, location: SourceLocation) {
        self.retryOn = retryOn
        self.location = location
    }
}
