/// One entry of a cluster's `hash_policy` (Envoy's route `hash_policy`, here on the cluster
/// since that is where `ring_hash` is chosen): what a request's ring-hash key is made of. The
/// first entry the request has gives the key; a request with none is balanced at random.
public enum HashPolicy: Sendable, Equatable {
    /// Envoy's `header: { header_name }`.
    case header(String)
    /// Envoy's `cookie: { name }` (Luxy does not set the cookie when it is missing).
    case cookie(String)
    /// Envoy's `connection_properties: { source_ip: true }`.
    case sourceIP
    /// The request path without its query (no Envoy equivalent; a header policy on `:path` is
    /// the nearest).
    case path
}
