/// A request path to measure: which Luxy (if any) sits between the client and the upstream,
/// and which client talks to it.
enum Scenario: String, CaseIterable {
    /// The client straight to the upstream: what the harness itself allocates per request,
    /// which should be nothing. It is subtracted from the others.
    case direct
    /// HTTP/1.1 through Luxy with no Lua stage.
    case plain
    /// HTTP/1.1 through Luxy with the bench's three Lua plugins (bench/plugins).
    case lua3
    /// HTTP/2 with prior knowledge (h2c) from the client, HTTP/1.1 to the upstream, no Lua stage.
    case h2c
    /// As `plain`, with the cluster's resilience on: `least_request`, an active TCP health
    /// check and outlier detection with success-rate evaluation, over five endpoints (the one
    /// upstream five times). What they cost per request; their 30 s intervals keep the probes
    /// and evaluations, which are not per request, out of the count.
    case resilient
    /// As `plain`, with the observability modules the bench runs (LUXY_BENCH_KIND=modules):
    /// metrics-http, logging-http (JSON lines, to /dev/null here so they stay out of the
    /// counter's own output) and tracing-http sampling 10% (spans exported to the upstream).
    case modules

    /// The bench's token; bench-auth answers 403 to any other.
    static let token = "alloc-counter-token"

    /// What wrk sends in the bench: the same GET with the bearer token every time.
    static let http1Request = "GET / HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer \(token)\r\n\r\n"

    var usesLuxy: Bool { self != .direct }

    /// The `inbound-http` chain of the scenario's config, as the bench sets it
    /// (bench/luxy-subject.sh).
    var chainYAML: String {
        switch self {
        case .lua3:
            """
                - { name: bench-request-start, priority: 300 }
                - { name: bench-auth, priority: 200, config: { token: "\(Self.token)" } }
                - { name: bench-response-done, priority: 100 }
            """
        case .modules:
            """
                - { name: metrics-http, priority: 1010 }
                - { name: logging-http, priority: 1000, config: { format: json, destination: /dev/null } }
                - { name: tracing-http, priority: 900, config: { collector_cluster: backend, format: zipkin, sample_rate: 0.1 } }
            """
        case .direct, .plain, .h2c, .resilient:
            "    []"
        }
    }

    /// The `backend` cluster's endpoints and resilience settings.
    func clusterYAML(upstreamPort: Int) -> String {
        let endpoint = "\"127.0.0.1:\(upstreamPort)\""
        switch self {
        case .resilient:
            return """
                endpoints: [\(Array(repeating: endpoint, count: 5).joined(separator: ", "))]
                lb_policy: least_request
                health_checks: [{ tcp: {}, interval: 30s }]
                outlier_detection: { interval: 30s }
            """
        case .direct, .plain, .lua3, .h2c, .modules:
            return "    endpoints: [\(endpoint)]"
        }
    }

    func makeClient(port: Int) throws -> RequestClient {
        switch self {
        case .direct, .plain, .resilient, .modules:
            try HTTP1Client(port: port, request: Self.http1Request, requiredHeader: nil)
        case .lua3:
            // The response stage's header shows the Lua chain really ran.
            try HTTP1Client(port: port, request: Self.http1Request, requiredHeader: "x-plugin: done")
        case .h2c:
            try H2CClient(port: port, authority: "localhost", headers: [("authorization", "Bearer \(Self.token)")])
        }
    }
}
