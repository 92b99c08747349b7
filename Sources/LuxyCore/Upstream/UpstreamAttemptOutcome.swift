/// How one attempt at an endpoint ended, as the exchange driver (or `httpCall`, or a tcp
/// listener) tells the cluster once per attempt: what passive outlier detection and the
/// endpoint counters go by.
enum UpstreamAttemptOutcome {
    /// An answer below 500 (or, for a tcp listener, a connection made).
    case success
    /// The endpoint answered 5xx.
    case status5xx
    /// No usable answer: connect refused or timed out, reset, request timeout, a broken response.
    case gatewayFailure
    /// The attempt was given up for reasons not the endpoint's (the client left).
    case abandoned
}
