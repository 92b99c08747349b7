/// Why a request ended as it did, as Envoy's `%RESPONSE_FLAGS%` says it: empty for a
/// response that came from the upstream (or a configured direct response) unhindered. A value
/// on the exchange's loop; set by the driver where the reason is known, read by the log phase.
public struct ResponseFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// UH: the cluster had no endpoint to pick (none configured or none healthy).
    public static let noHealthyUpstream = ResponseFlags(rawValue: 1 << 0)
    /// UF: no connection to the upstream (refused, connect timeout, TLS handshake).
    public static let upstreamConnectionFailure = ResponseFlags(rawValue: 1 << 1)
    /// UT: the route's timeout (or the last attempt's per-try timeout) ran out.
    public static let upstreamRequestTimeout = ResponseFlags(rawValue: 1 << 2)
    /// UO: a circuit-breaker bound of the cluster tripped; nothing was sent.
    public static let upstreamOverflow = ResponseFlags(rawValue: 1 << 3)
    /// URX: the retry policy had retries left to give no more.
    public static let upstreamRetryLimitExceeded = ResponseFlags(rawValue: 1 << 4)
    /// DC: the client went away before the response was complete.
    public static let downstreamConnectionTermination = ResponseFlags(rawValue: 1 << 5)
    /// LR: Luxy answered itself instead of the upstream: a stage's `respond()`, a refused
    /// upgrade, a body over the buffering limit.
    public static let localReply = ResponseFlags(rawValue: 1 << 6)
    /// PF: a plugin (Lua stage) failed the request (Luxy's own flag; Envoy has none).
    public static let pluginFailure = ResponseFlags(rawValue: 1 << 7)
    /// NR: no route matched.
    public static let noRouteFound = ResponseFlags(rawValue: 1 << 8)
    /// UR: the upstream reset the stream (or refused an HTTP/2 stream).
    public static let upstreamRemoteReset = ResponseFlags(rawValue: 1 << 9)
    /// UPE: the upstream's answer was not valid HTTP.
    public static let upstreamProtocolError = ResponseFlags(rawValue: 1 << 10)
    /// NC: the route named a cluster that does not exist.
    public static let noClusterFound = ResponseFlags(rawValue: 1 << 11)
    /// RL: a stage limited the rate (a throttle module said so through `setResponseFlag`).
    public static let rateLimited = ResponseFlags(rawValue: 1 << 12)

    /// A flag and its short code.
    struct ShortCode: Sendable {
        var flag: ResponseFlags
        var code: String
    }

    /// In Envoy's order for the short codes.
    static let codes: [ShortCode] = [
        .init(flag: .noHealthyUpstream, code: "UH"), .init(flag: .upstreamConnectionFailure, code: "UF"),
        .init(flag: .upstreamOverflow, code: "UO"), .init(flag: .noRouteFound, code: "NR"),
        .init(flag: .upstreamRetryLimitExceeded, code: "URX"), .init(flag: .noClusterFound, code: "NC"),
        .init(flag: .downstreamConnectionTermination, code: "DC"), .init(flag: .upstreamRequestTimeout, code: "UT"),
        .init(flag: .localReply, code: "LR"), .init(flag: .upstreamRemoteReset, code: "UR"),
        .init(flag: .rateLimited, code: "RL"), .init(flag: .upstreamProtocolError, code: "UPE"),
        .init(flag: .pluginFailure, code: "PF"),
    ]

    /// `UF,URX`, or `-` when none is set (Envoy's text for no flag).
    public var shortCodes: String {
        guard !isEmpty else { return "-" }
        return Self.codes.filter { contains($0.flag) }.map(\.code).joined(separator: ",")
    }

    /// The flag of a short code (`RL`), for a stage that sets one.
    public init?(shortCode: String) {
        guard let entry = Self.codes.first(where: { $0.code == shortCode }) else { return nil }
        self = entry.flag
    }
}

extension UpstreamError {
    /// The flag a request that ended on this failure carries (public: `luxy test` sets the
    /// same flag for a scripted upstream failure).
    public var responseFlag: ResponseFlags {
        switch self {
        case .unknownCluster: return .noClusterFound
        // An original-destination cluster with no destination to go to has no host, as in Envoy.
        case .noEndpoint, .noOriginalDestination: return .noHealthyUpstream
        case .connectFailed, .connectTimeout, .tlsHandshakeFailed: return .upstreamConnectionFailure
        case .timeout, .perTryTimeout: return .upstreamRequestTimeout
        case .reset, .refusedStream: return .upstreamRemoteReset
        case .overloaded: return .upstreamOverflow
        case .malformedResponse: return .upstreamProtocolError
        // Luxy's own answers: a response over its buffer, a loop back into itself (508).
        case .responseTooLarge, .originalDestinationIsProxy: return .localReply
        }
    }
}
