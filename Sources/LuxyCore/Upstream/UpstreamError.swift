import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Why an upstream exchange failed, and the status the client gets for it (Envoy's choices:
/// no connection → 503, no answer in time → 504, a broken answer → 502).
public enum UpstreamError: Error, Equatable, CustomStringConvertible {
    case unknownCluster(String)
    case noEndpoint(String)
    case connectFailed(String)
    case connectTimeout
    /// The route's timeout (all attempts together) ran out.
    case timeout
    /// One attempt's `per_try_timeout` ran out, and no retry was left to make.
    case perTryTimeout
    case reset
    /// An HTTP/2 upstream refused the stream (REFUSED_STREAM): it never processed the request.
    case refusedStream
    /// A `circuit_breakers` bound of the cluster tripped: nothing was sent.
    case overloaded(CircuitBreakerLimit)
    case malformedResponse(String)
    case responseTooLarge(limit: Int)
    case tlsHandshakeFailed(String)
    /// An `original_destination` cluster had no original destination to go to (the listener
    /// does not read it), or it was one of the proxy's own listeners: sending it there would
    /// loop.
    case noOriginalDestination(String)
    case originalDestinationIsProxy(String)

    public var status: HTTPResponseStatus {
        switch self {
        case .unknownCluster, .noEndpoint, .connectFailed, .connectTimeout, .tlsHandshakeFailed, .refusedStream,
             .overloaded, .noOriginalDestination:
            return .serviceUnavailable
        case .originalDestinationIsProxy: return .loopDetected
        case .timeout, .perTryTimeout: return .gatewayTimeout
        case .reset, .malformedResponse, .responseTooLarge: return .badGateway
        }
    }

    public var description: String {
        switch self {
        case .unknownCluster(let name): return "unknown cluster '\(name)'"
        case .noEndpoint(let name): return "cluster '\(name)' has no endpoint"
        case .connectFailed(let reason): return "upstream connect error: \(reason)"
        case .connectTimeout: return "upstream connect timeout"
        case .timeout: return "upstream request timeout"
        case .perTryTimeout: return "upstream per-try timeout"
        case .reset: return "upstream reset before the response was complete"
        case .refusedStream: return "upstream refused the stream"
        case .overloaded(let limit): return "upstream overloaded: cluster's \(limit.configName) reached"
        case .malformedResponse(let reason): return "malformed upstream response: \(reason)"
        case .responseTooLarge(let limit): return "upstream response larger than \(limit) bytes"
        case .tlsHandshakeFailed(let reason): return "upstream TLS handshake failed: \(reason)"
        case .noOriginalDestination(let name):
            return "cluster '\(name)' goes to the original destination, and the listener has none"
        case .originalDestinationIsProxy(let address):
            return "original destination \(address) is this proxy's own listener"
        }
    }

    /// Nothing reached the endpoint: another one may take the request, whatever its method.
    var isConnectFailure: Bool {
        switch self {
        case .connectFailed, .connectTimeout, .tlsHandshakeFailed:
            return true
        // The request reached the endpoint, or no endpoint was tried: nothing to fail over from.
        case .unknownCluster, .noEndpoint, .timeout, .perTryTimeout, .reset, .refusedStream, .overloaded,
             .malformedResponse, .responseTooLarge, .noOriginalDestination, .originalDestinationIsProxy:
            return false
        }
    }

    /// The endpoint's fault, as Envoy's `consecutive_gateway_failure` counts: no connection,
    /// no answer in time, a reset or a broken answer.
    var isGatewayFailure: Bool {
        switch self {
        case .connectFailed, .connectTimeout, .tlsHandshakeFailed, .timeout, .perTryTimeout, .reset,
             .malformedResponse:
            return true
        // Ours, not the endpoint's: the cluster's own limits, a refused (never processed) h2
        // stream, a response over our buffer.
        case .unknownCluster, .noEndpoint, .responseTooLarge, .refusedStream, .overloaded, .noOriginalDestination,
             .originalDestinationIsProxy:
            return false
        }
    }

    /// The counter this failure is counted under.
    var counterName: String {
        switch self {
        case .unknownCluster, .noEndpoint: return "upstream_no_endpoint"
        case .connectFailed: return "upstream_connect_failed"
        case .connectTimeout: return "upstream_connect_timeout"
        case .timeout: return "upstream_timeout"
        case .perTryTimeout: return "upstream_per_try_timeout"
        case .reset: return "upstream_reset"
        case .refusedStream: return "upstream_refused_stream"
        case .overloaded(let limit): return limit.counterName
        case .malformedResponse: return "upstream_malformed"
        case .responseTooLarge: return "upstream_body_too_large"
        case .tlsHandshakeFailed: return "upstream_tls_handshake_failed"
        case .noOriginalDestination: return "upstream_no_original_destination"
        case .originalDestinationIsProxy: return "upstream_original_destination_loop"
        }
    }

    static func fromConnect(_ error: Error) -> UpstreamError {
        if let channelError = error as? ChannelError, case .connectTimeout = channelError { return .connectTimeout }
        if let connectError = error as? NIOConnectionError {
            if let first = connectError.connectionErrors.first {
                return Self.fromConnect(first.error)
            }
            if let dnsError = connectError.dnsAAAAError ?? connectError.dnsAError {
                return .connectFailed("\(dnsError)")
            }
        }
        if let ioError = error as? IOError {
            if ioError.errnoCode == ECONNREFUSED { return .connectFailed("connection refused") }
            return .connectFailed(ioError.description)
        }
        return .connectFailed("\(error)")
    }
}
