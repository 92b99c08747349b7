import LuxyConfig
import NIOCore
import NIOHTTP1

/// The clusters of one generation on one event loop, and the side calls (`httpCall`) made
/// through them.
final class UpstreamServices {
    let eventLoop: EventLoop
    let stats: ProxyStats
    private let registry: UpstreamClusterRegistry
    private let clusters: [String: UpstreamCluster]
    /// A side call's response is held whole in memory (and then in Lua): bounded like a body.
    var maxCallResponseBytes = Int.max
    /// Where an `original_destination` cluster must not go (its own listeners).
    let ownAddresses: ProxyOwnAddresses
    /// Static clusters by their endpoints (`host:port`, the first cluster listing one): an
    /// original destination naming one of them goes there rather than through a
    /// passthrough cluster.
    let clusterNamesByEndpoint: [String: String]

    /// Takes the loop's clusters for `clusters` from `registry`: unchanged ones keep their pools.
    init(clusters: [ClusterConfiguration], registry: UpstreamClusterRegistry, eventLoop: EventLoop, stats: ProxyStats,
         ownAddresses: ProxyOwnAddresses) {
        self.eventLoop = eventLoop
        self.ownAddresses = ownAddresses
        var byEndpoint: [String: String] = [:]
        for cluster in clusters where cluster.kind == .static {
            for endpoint in cluster.endpoints where byEndpoint[endpoint.description] == nil {
                byEndpoint[endpoint.description] = cluster.name
            }
        }
        self.clusterNamesByEndpoint = byEndpoint
        self.stats = stats
        self.registry = registry
        self.clusters = Dictionary(uniqueKeysWithValues: clusters.map { ($0.name, registry.acquire($0)) })
    }

    func cluster(named name: String) -> UpstreamCluster? {
        clusters[name]
    }

    /// The generation is gone: its clusters lose a user (pools a newer generation shares stay).
    func close() {
        for cluster in clusters.values { registry.release(cluster) }
    }

    /// Whether `name` is a cluster of this generation (a side call to any other is an error
    /// the script sees at once, as in Envoy).
    func hasCluster(_ name: String) -> Bool {
        clusters[name] != nil
    }

    /// `timeout` zero means the call has none of its own: the cluster's request timeout bounds it.
    func call(cluster name: String, head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount,
              completion: @escaping (HTTPResponseHead, ByteBuffer) -> Void) {
        guard let cluster = clusters[name] else {
            BufferedUpstreamCall(stats: stats, maxBodyBytes: maxCallResponseBytes, completion: completion)
                .upstreamFailed(.unknownCluster(name))
            return
        }
        guard let pick = cluster.pickPool() else {
            BufferedUpstreamCall(stats: stats, maxBodyBytes: maxCallResponseBytes, completion: completion)
                .upstreamFailed(.noEndpoint(name))
            return
        }
        let pool = pick.pool
        let call = BufferedUpstreamCall(stats: stats, maxBodyBytes: maxCallResponseBytes, completion: completion)
        // The endpoint's outcome, once, for outlier detection and its figures.
        call.outcome = { outcome in cluster.recordOutcome(of: pick, outcome) }
        var head = head
        if head.headers.first(name: "host") == nil {
            head.headers.add(name: "host", value: pool.endpointText)
        }
        if let body {
            head.headers.setContentLength(body.readableBytes)
        }
        call.start(timeout: timeout > .zero ? timeout : cluster.requestTimeout, on: eventLoop)
        pool.acquireConnection { result in
            switch result {
            case .success(let connection):
                guard call.attach(connection) else {
                    pool.releaseConnection(connection)
                    return
                }
                connection.begin(head, receiver: call)
                if let body, body.readableBytes > 0 { connection.send(.body(.byteBuffer(body)), flush: false) }
                connection.send(.end(nil), flush: true)
            case .failure(let error):
                call.upstreamFailed(error)
            }
        }
    }
}

@available(*, unavailable)
extension UpstreamServices: Sendable {}

/// An `httpCall`: the response collected whole, a failure answered as a local 5xx.
private final class BufferedUpstreamCall: UpstreamResponseReceiver {
    private var completion: ((HTTPResponseHead, ByteBuffer) -> Void)?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var connection: (any UpstreamConnection)?
    private var timer: Scheduled<Void>?
    private let stats: ProxyStats
    private let maxBodyBytes: Int
    /// Told once how the attempt ended (its status, or a failure), then dropped.
    var outcome: ((UpstreamAttemptOutcome) -> Void)?

    init(stats: ProxyStats, maxBodyBytes: Int, completion: @escaping (HTTPResponseHead, ByteBuffer) -> Void) {
        self.stats = stats
        self.maxBodyBytes = maxBodyBytes
        self.completion = completion
    }

    func start(timeout: TimeAmount, on eventLoop: EventLoop) {
        timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            connection?.abandon()
            upstreamFailed(.timeout)
        }
    }

    /// False when the call already ended (timed out while connecting).
    func attach(_ connection: any UpstreamConnection) -> Bool {
        guard completion != nil else { return false }
        self.connection = connection
        return true
    }

    func upstreamResponseHead(_ head: HTTPResponseHead) {
        self.head = head
        report(head.status.code >= 500 ? .status5xx : .success)
    }

    private func report(_ result: UpstreamAttemptOutcome) {
        guard let outcome else { return }
        self.outcome = nil
        outcome(result)
    }

    func upstreamResponseBody(_ part: ByteBuffer) {
        guard completion != nil else { return }
        guard body.readableBytes + part.readableBytes <= maxBodyBytes else {
            connection?.abandon()
            return upstreamFailed(.responseTooLarge(limit: maxBodyBytes))
        }
        var part = part
        body.writeBuffer(&part)
    }

    func upstreamResponseEnd(_ trailers: HTTPHeaders?) {
        guard let head else { return upstreamFailed(.malformedResponse("no response head")) }
        finish(head, body)
    }

    func upstreamFailed(_ error: UpstreamError) {
        report(error.isGatewayFailure ? .gatewayFailure : .abandoned)
        stats.increment(error.counterName)
        // No trailing newline (Envoy's "upstream failure" has none): scripts put it in headers.
        let reply = LocalReply.make(error.status, body: error.description)
        finish(reply.head, reply.body)
    }

    private func finish(_ head: HTTPResponseHead, _ body: ByteBuffer) {
        timer?.cancel()
        timer = nil
        connection = nil
        guard let completion else { return }
        self.completion = nil
        completion(head, body)
    }
}
