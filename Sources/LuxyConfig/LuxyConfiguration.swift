/// The whole of `luxy.yaml`, parsed and validated. Immutable: a reload builds a new one.
public struct LuxyConfiguration: Sendable, Equatable {
    /// The file it was read from (absolute), and its folder, against which relative paths resolve.
    public var sourceFile: String
    public var admin: AdminConfiguration?
    /// Number of event loops; nil means one per core.
    public var workers: Int?
    /// Absolute paths, resolved against the config file's folder.
    public var pluginsDirectory: String
    public var modulesDirectory: String
    /// Where `require("name")` finds `name.lua` (`lib_dir`, default `lib` beside the config
    /// file); empty for a configuration made in code, which then has no libraries.
    public var libDirectory = ""
    public var limits: LimitsConfiguration
    public var listeners: [ListenerConfiguration]
    public var clusters: [ClusterConfiguration]
    /// Keyed by chain; a chain absent from YAML is an empty list.
    public var chains: [ChainName: [StageConfiguration]]
    /// `shared_dicts:`: the bounds of the Lua shared dictionaries, by name.
    public var sharedDicts: [String: SharedDictConfiguration] = [:]
    /// Absolute paths of the files `!file` values were read from: a change reloads.
    public var secretFiles: [String] = []

    public init(sourceFile: String, admin: AdminConfiguration?, workers: Int?, pluginsDirectory: String,
                modulesDirectory: String, limits: LimitsConfiguration, listeners: [ListenerConfiguration],
                clusters: [ClusterConfiguration], chains: [ChainName: [StageConfiguration]]) {
        self.sourceFile = sourceFile
        self.admin = admin
        self.workers = workers
        self.pluginsDirectory = pluginsDirectory
        self.modulesDirectory = modulesDirectory
        self.limits = limits
        self.listeners = listeners
        self.clusters = clusters
        self.chains = chains
    }

    public func cluster(named name: String) -> ClusterConfiguration? {
        clusters.first { $0.name == name }
    }
}

public enum ChainName: String, Sendable, CaseIterable, Hashable, Comparable {
    case inboundHTTP = "inbound-http"
    case inboundTCP = "inbound-tcp"
    case outboundHTTP = "outbound-http"
    case outboundTCP = "outbound-tcp"

    public init(direction: TrafficDirection, protocol proto: ListenerProtocol) {
        switch (direction, proto) {
        case (.inbound, .http): self = .inboundHTTP
        case (.inbound, .tcp): self = .inboundTCP
        case (.outbound, .http): self = .outboundHTTP
        case (.outbound, .tcp): self = .outboundTCP
        }
    }

    public static func < (lhs: ChainName, rhs: ChainName) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

public enum TrafficDirection: String, Sendable { case inbound, outbound }
public enum ListenerProtocol: String, Sendable { case http, tcp }

public struct AdminConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) { self.host = host; self.port = port }
}

/// Front-end limits. Defaults follow common edge-proxy practice.
public struct LimitsConfiguration: Sendable, Equatable {
    /// Largest request or response head (request line + headers) accepted; over it → 431.
    public var maxHeaderBytes: Int = 64 * 1024
    /// Most header fields in a request head (trailers included); over it → 431. Envoy's
    /// `max_headers_count` default. Also the most a Lua stage may leave on a head it sends.
    public var maxHeaderCount: Int = 100
    /// Longest request target (with the method and version, the request line) accepted;
    /// over it → 414, as nginx's `large_client_header_buffers` (8k) does. A target so long
    /// that the whole head overflows `maxHeaderBytes` is 431 (the parser stops before it
    /// knows which line it was in).
    public var maxRequestLineBytes: Int = 8 * 1024
    /// A request header whose name has an underscore: dropped by default, as nginx does
    /// (`underscores_in_headers off`); such names can alias `-` names in CGI-style backends.
    public var headersWithUnderscores: UnderscoreHeaderAction = .drop
    /// Largest body a stage may buffer with `body()`; over it → 413.
    public var maxBufferedBodyBytes: Int = 8 * 1024 * 1024
    /// SIGTERM: how long in-flight requests get to finish.
    public var drainTimeoutMilliseconds: Int = 10_000
    /// Idle keep-alive connections to the client are closed after this.
    public var idleTimeoutMilliseconds: Int = 60_000
    /// From the first byte of a request head (the connection's start for its first request)
    /// until the head is complete; over it → 408 and close. nginx `client_header_timeout`.
    public var requestHeaderTimeoutMilliseconds: Int = 10_000
    /// Longest gap between two reads of an unfinished request body; over it → 408 (or a cut
    /// if the answer began) and the upstream request is cancelled. nginx `client_body_timeout`.
    public var requestBodyTimeoutMilliseconds: Int = 60_000
    /// How long a response may make no progress to a client that does not read; then the
    /// connection closes and the upstream request is cancelled. nginx `send_timeout`.
    public var sendTimeoutMilliseconds: Int = 60_000
    /// An HTTP/2 stream with no frame either way for this long is reset (or answered 408) and
    /// its upstream request cancelled. Envoy `stream_idle_timeout`.
    public var streamIdleTimeoutMilliseconds: Int = 60_000
    /// Lua: VM instructions one phase of one stage may run before it is aborted.
    public var luaInstructionBudget: Int = 10_000_000
    /// Lua: bytes one VM may allocate.
    public var luaMemoryBytes: Int = 64 * 1024 * 1024
    /// Lua: instructions a phase runs before it gives the event loop back for a tick (the
    /// rest of its budget runs on later ticks), so a phase over budget stalls the loop for
    /// one slice at a time.
    public var luaInstructionSlice: Int = 250_000
    /// Lua: the largest script file (and chunk given to `load`) compiled; a larger one is
    /// refused at load and on reload.
    public var luaMaxScriptBytes: Int = 1024 * 1024
    /// Lua: finished coroutines each VM keeps for reuse; the rest are collected.
    public var luaMaxIdleCoroutines: Int = 64
    /// Lua: the largest JSON text `cjson` decodes or encodes (both loop in C, out of reach of
    /// the count hook, so one call holds the loop: about 25 ms for 1 MiB); larger is an error.
    public var luaMaxJSONBytes: Int = 1024 * 1024
    /// Lua: the most label sets (series) one metric a script defines may have; further ones
    /// are dropped and counted.
    public var luaMetricMaxSeries: Int = 1000
    public init() {}
}

/// What becomes of a request header whose name contains `_` (Envoy's
/// `headers_with_underscores_action`).
public enum UnderscoreHeaderAction: String, Sendable {
    /// Forward it.
    case allow
    /// Remove it and forward the rest (nginx's default).
    case drop
    /// Answer 400.
    case reject
}

public struct ListenerConfiguration: Sendable, Equatable {
    public var name: String
    public var direction: TrafficDirection
    public var proto: ListenerProtocol
    public var host: String
    public var port: Int
    public var virtualHosts: [VirtualHostConfiguration]
    /// A tcp listener's upstream (`cluster:` in YAML); http listeners route with virtual hosts instead.
    public var tcpCluster: String? = nil
    /// A tcp listener's routes by TLS server name (SNI), tried before `tcpCluster`.
    public var tcpRoutes: [TCPRouteConfiguration] = []
    public var location: SourceLocation
    /// TLS termination; nil means plain text.
    public var tls: ListenerTLSConfiguration? = nil
    public var http2 = HTTP2Settings()
    /// Envoy's `xff_num_trusted_hops`: how many proxies in front of this listener append to
    /// `x-forwarded-for`, so the client is that many entries from the right. 0 trusts no
    /// header: the client is the connection's peer.
    public var xffNumTrustedHops = 0
    /// `original_destination: true`: each accepted connection's original destination (the
    /// address it was sent to before an iptables `REDIRECT`, Envoy's
    /// `use_original_dst`) is read once and used for routing, for `original_destination`
    /// clusters and as the downstream local address stages see.
    public var originalDestination = false

    public init(name: String, direction: TrafficDirection, proto: ListenerProtocol, host: String, port: Int,
                virtualHosts: [VirtualHostConfiguration], location: SourceLocation) {
        self.name = name
        self.direction = direction
        self.proto = proto
        self.host = host
        self.port = port
        self.virtualHosts = virtualHosts
        self.location = location
    }

    public var chain: ChainName { ChainName(direction: direction, protocol: proto) }
}

public struct VirtualHostConfiguration: Sendable, Equatable {
    public var name: String
    /// `example.com`, `*.example.com` (suffix), or `*`. Matched case-insensitively, port stripped.
    public var domains: [String]
    public var routes: [RouteConfiguration]
    /// Per-stage changes for every route of this host (`per_stage:`), by stage name.
    public var stageOverrides: [String: StageOverride] = [:]
    /// `original_destination_port:` / `original_destination:`: this host serves only
    /// connections redirected from that port (or address:port), as an Envoy filter chain's
    /// `destination_port` / `prefix_ranges` match does. nil: any destination.
    public var originalDestination: OriginalDestinationMatch? = nil

    public init(name: String, domains: [String], routes: [RouteConfiguration]) {
        self.name = name
        self.domains = domains
        self.routes = routes
    }
}

public struct RouteConfiguration: Sendable, Equatable {
    public var name: String
    public var match: RouteMatchConfiguration
    public var action: RouteAction
    /// The destination service this route leads to; plugin stages scoped with `services:` look at it.
    public var service: String?
    /// Free-form route metadata, handed to Lua as `handle:metadata()`.
    public var metadata: ConfigValue
    /// Protocols a request on this route may upgrade to (`upgrades: [websocket]`), lower-case.
    /// Empty: an upgrade request is refused with 403, as Envoy does for an upgrade it was not
    /// configured for.
    public var upgrades: [String] = []
    /// Per-stage changes for this route (`per_stage:`), by stage name; they replace the
    /// virtual host's for the same stage.
    public var stageOverrides: [String: StageOverride] = [:]
    /// Request fields set (replacing) before the request goes upstream, after the stages, and
    /// fields removed: Envoy's `request_headers_to_add` / `request_headers_to_remove`.
    public var requestHeadersToAdd: [HeaderToAdd] = []
    public var requestHeadersToRemove: [String] = []
    /// Response fields set once the response head is known (upstream or local), before the
    /// response stages run, and fields removed: `response_headers_to_add` / `_to_remove`.
    public var responseHeadersToAdd: [HeaderToAdd] = []
    public var responseHeadersToRemove: [String] = []
    /// The upstream request timeout for this route, instead of its cluster's.
    public var timeoutMilliseconds: Int?
    /// `retry_policy:`; nil: an attempt that fails is not retried (but for a request on a
    /// kept-alive connection found closed, see `HTTPExchangeDriver.retryOnFreshConnection`).
    public var retryPolicy: RetryPolicyConfiguration?
    /// Envoy's `per_request_buffer_limit_bytes`: how much of a request body is kept for a
    /// retry; a body over it goes upstream once and is not retried.
    public var perRequestBufferLimitBytes = 64 * 1024
    public var location: SourceLocation

    public init(name: String, match: RouteMatchConfiguration, action: RouteAction, service: String?,
                metadata: ConfigValue, location: SourceLocation) {
        self.name = name
        self.match = match
        self.action = action
        self.service = service
        self.metadata = metadata
        self.location = location
    }
}

/// One field of `request_headers_to_add` / `response_headers_to_add`.
public struct HeaderToAdd: Sendable, Equatable {
    public var name: String
    public var value: String
    /// false: appended next to fields of the same name (Envoy's `APPEND_IF_EXISTS_OR_ADD`);
    /// true (the default): replaces them (`OVERWRITE_IF_EXISTS_OR_ADD`).
    public var overwrite: Bool

    public init(name: String, value: String, overwrite: Bool = true) {
        self.name = name
        self.value = value
        self.overwrite = overwrite
    }
}

public struct RouteMatchConfiguration: Sendable, Equatable {
    public enum Path: Sendable, Equatable {
        case prefix(String)
        case exact(String)
        /// A regular expression matched against the whole path (without the query).
        case regex(String)
    }
    public struct Header: Sendable, Equatable {
        public enum Rule: Sendable, Equatable {
            case exact(String)
            case prefix(String)
            case regex(String)
            case present(Bool)
        }
        public var name: String
        public var rule: Rule
        public init(name: String, rule: Rule) { self.name = name; self.rule = rule }
    }

    public var path: Path
    public var headers: [Header]
    /// Upper-case method names; empty matches any.
    public var methods: [String]

    public init(path: Path, headers: [Header] = [], methods: [String] = []) {
        self.path = path
        self.headers = headers
        self.methods = methods
    }
}

public enum RouteAction: Sendable, Equatable {
    case cluster(String)
    case weightedClusters([WeightedCluster])
    case directResponse(status: Int, body: String, contentType: String?)
    /// Answer with the request as JSON: method, path, headers, body.
    case echo

    public struct WeightedCluster: Sendable, Equatable {
        public var name: String
        public var weight: Int
        public init(name: String, weight: Int) { self.name = name; self.weight = weight }
    }
}

public struct ClusterConfiguration: Sendable, Equatable {
    public var name: String
    /// `type:`; `static` clusters list their endpoints.
    public var kind: ClusterKind = .static
    public var endpoints: [Endpoint]
    public var loadBalancing: LoadBalancingPolicy
    public var connectTimeoutMilliseconds: Int
    public var requestTimeoutMilliseconds: Int
    /// Idle keep-alive connections per (event loop, endpoint) kept in the pool.
    public var maxIdleConnections: Int
    public var location: SourceLocation
    public var upstreamProtocol: UpstreamProtocol = .http1
    /// TLS origination; nil means plain text.
    public var tls: ClusterTLSConfiguration? = nil
    public var circuitBreakers = CircuitBreakersConfiguration()
    /// Pooled upstream connections idle this long are closed (`idle_timeout`).
    public var idleTimeoutMilliseconds = 60_000
    /// Passive ejection of failing endpoints; on by default.
    public var outlierDetection = OutlierDetectionConfiguration()
    /// Active probes; none by default.
    public var healthChecks: [HealthCheckConfiguration] = []
    /// Envoy's `common_lb_config.healthy_panic_threshold`: below this percentage of available
    /// endpoints, balancing ignores health and uses them all. 0 turns panic mode off.
    public var healthyPanicThreshold = 50
    /// What `ring_hash` and `maglev` hash on.
    public var hashPolicy: [HashPolicy] = []
    /// `maglev.table_size` (Envoy's `maglev_lb_config.table_size`): a prime; each endpoint
    /// gets about table_size / n entries, so a larger table balances more finely.
    public var maglevTableSize = 65_537

    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int
        /// Envoy's `load_balancing_weight`: a share of the traffic relative to the others.
        public var weight: Int
        public init(host: String, port: Int, weight: Int = 1) { self.host = host; self.port = port; self.weight = weight }
        public var description: String { "\(host):\(port)" }
    }

    public init(name: String, endpoints: [Endpoint], loadBalancing: LoadBalancingPolicy = .roundRobin,
                connectTimeoutMilliseconds: Int = 1_000, requestTimeoutMilliseconds: Int = 15_000,
                maxIdleConnections: Int = 64, location: SourceLocation) {
        self.name = name
        self.endpoints = endpoints
        self.loadBalancing = loadBalancing
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.maxIdleConnections = maxIdleConnections
        self.location = location
    }
}

public enum LoadBalancingPolicy: String, Sendable {
    case roundRobin = "round_robin", random
    /// Power of two choices, weighted by the endpoints' weights.
    case leastRequest = "least_request"
    /// A consistent-hash ring keyed by `hash_policy`.
    case ringHash = "ring_hash"
    /// Google's Maglev table keyed by `hash_policy`.
    case maglev

    /// Picks by a request's `hash_policy` key.
    public var isHashBased: Bool { self == .ringHash || self == .maglev }
}

/// One Lua stage in one chain, as written in YAML; LuxyPlugins resolves `name` to a file.
public struct StageConfiguration: Sendable, Equatable {
    public var name: String
    /// Higher runs first on the request path; ties are broken by name.
    public var priority: Int
    public var config: ConfigValue
    /// Destination services this stage applies to; empty means all.
    public var services: [String]
    /// On a script error: continue the request (Envoy's behaviour) instead of failing it with 500.
    public var failOpen: Bool
    public var disabled: Bool
    /// Envoy's `clear_route_cache`: when the script changes what routing looks at (`:path`,
    /// `:authority`, `:method`, a header a route matches on), the route is chosen again
    /// before the request goes upstream. On by default, as in Envoy.
    public var clearRouteCache = true
    /// Envoy's `stat_prefix` (YAML `stat_prefix`); nil means the stage's name.
    public var statPrefix: String? = nil
    public var location: SourceLocation
    /// Where each value under `config:` was written, for schema errors.
    public var configLocations = ConfigValueLocations()

    /// The prefix of the stage's Lua counters: `<prefix>.lua.executions`, `<prefix>.lua.errors`.
    public var effectiveStatPrefix: String { statPrefix ?? name }

    /// Whether the stage runs for a request to `service` (the route's destination service;
    /// nil without one): a stage scoped with `services:` runs only for those.
    public func applies(toService service: String?) -> Bool {
        guard !services.isEmpty else { return true }
        guard let service else { return false }
        return services.contains(service)
    }

    public init(name: String, priority: Int, config: ConfigValue = .map([]), services: [String] = [],
                failOpen: Bool = false, disabled: Bool = false, location: SourceLocation) {
        self.name = name
        self.priority = priority
        self.config = config
        self.services = services
        self.failOpen = failOpen
        self.disabled = disabled
        self.location = location
    }
}

/// One SNI route of a tcp listener: connections whose TLS server name matches go to `cluster`.
public struct TCPRouteConfiguration: Sendable, Equatable {
    /// `db.example.com`, `*.example.com` (one label or more), or `*`; lower-case.
    public var serverNames: [String]
    public var cluster: String

    public init(serverNames: [String], cluster: String) {
        self.serverNames = serverNames
        self.cluster = cluster
    }

    public func matches(_ serverName: String) -> Bool {
        let name = serverName.lowercased()
        return serverNames.contains { pattern in
            if pattern == "*" { return true }
            if pattern.hasPrefix("*.") { return name.hasSuffix(pattern.dropFirst()) && name.count > pattern.count - 1 }
            return pattern == name
        }
    }
}
