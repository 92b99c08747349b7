/// Envoy's `outlier_detection` on a cluster: passive ejection of endpoints that keep failing
/// real requests. On by default (with Envoy's defaults), so one dead endpoint out of three
/// leaves rotation without any setting; `outlier_detection: { enabled: false }` turns it off.
public struct OutlierDetectionConfiguration: Sendable, Equatable {
    public var enabled = true
    /// Envoy's `consecutive_5xx`: 5xx answers and gateway failures in a row; 0 turns it off.
    public var consecutive5xx = 5
    /// Envoy's `consecutive_gateway_failure`: connect refused/timeout, reset, request timeout in
    /// a row; 0 turns it off. (Envoy does not enforce this one by default; Luxy does, so a
    /// refusing endpoint leaves rotation with no settings at all.)
    public var consecutiveGatewayFailure = 5
    /// Envoy's `enforcing_consecutive_5xx`: the chance, in %, that an endpoint reaching
    /// `consecutive_5xx` is ejected.
    public var enforcingConsecutive5xx = 100
    /// Envoy's `enforcing_consecutive_gateway_failure`, in %. Envoy's default is 0 (detected,
    /// not ejected); Luxy's is 100, so refusing endpoints leave rotation with no settings.
    public var enforcingConsecutiveGatewayFailure = 100
    /// Envoy's `base_ejection_time`: an ejection lasts this × the times the endpoint was ejected.
    public var baseEjectionMilliseconds = 30_000
    /// Envoy's `max_ejection_time`: the cap on one ejection's length.
    public var maxEjectionMilliseconds = 300_000
    /// Envoy's `max_ejection_percent`: at most this share of the endpoints is ejected at once,
    /// but one endpoint may always be (Envoy's rule too), so small clusters are covered.
    public var maxEjectionPercent = 10
    /// Envoy's `interval`: how often the success rates are compared (over the requests of the
    /// interval just ended).
    public var intervalMilliseconds = 10_000
    /// Envoy's `success_rate_minimum_hosts`: fewer endpoints with enough requests in an
    /// interval, and success rates are not compared at all.
    public var successRateMinimumHosts = 5
    /// Envoy's `success_rate_request_volume`: requests an endpoint needs in an interval to be
    /// compared.
    public var successRateRequestVolume = 100
    /// Envoy's `success_rate_stdev_factor`, in thousandths: an endpoint whose success rate is
    /// below mean − (factor / 1000) × standard deviation is an outlier (1900: 1.9).
    public var successRateStdevFactor = 1900
    /// Envoy's `enforcing_success_rate`: the chance, in %, that a success-rate outlier is
    /// ejected; 0 turns success-rate ejection off.
    public var enforcingSuccessRate = 100
    /// Envoy's `failure_percentage_threshold`: an endpoint whose failures in an interval reach
    /// this percentage is an outlier, whatever the others do.
    public var failurePercentageThreshold = 85
    /// Envoy's `enforcing_failure_percentage`: the chance, in %, that such an outlier is
    /// ejected. 0 by default (Envoy's), which leaves the trigger off.
    public var enforcingFailurePercentage = 0
    /// Envoy's `failure_percentage_minimum_hosts` and `failure_percentage_request_volume`.
    public var failurePercentageMinimumHosts = 5
    public var failurePercentageRequestVolume = 50

    public init() {}
}
