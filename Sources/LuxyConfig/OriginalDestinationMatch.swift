/// A virtual host's condition on the connection's original destination (the address an
/// iptables `REDIRECT` sent elsewhere): a port, and optionally the address too. Envoy's
/// filter chain match on `destination_port` and `prefix_ranges`; Istio builds one such
/// chain per service port behind its `virtualOutbound` listener.
public struct OriginalDestinationMatch: Sendable, Equatable {
    /// nil: any address on `port`.
    public var host: String?
    public var port: Int

    public init(host: String?, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host` is the original destination's address as text (`10.0.0.5`, `fd00::5`).
    public func matches(host: String?, port: Int) -> Bool {
        guard port == self.port else { return false }
        guard let wanted = self.host else { return true }
        return host == wanted
    }
}

/// What a cluster's endpoints are.
public enum ClusterKind: String, Sendable {
    /// The endpoints listed under `endpoints:`.
    case `static`
    /// Envoy's `ORIGINAL_DST` cluster (Istio's `PassthroughCluster`): no endpoints; each
    /// connection goes to its own original destination, read by an `original_destination`
    /// listener.
    case originalDestination = "original_destination"
}
