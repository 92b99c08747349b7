import Logging
import LuxyConfig
import LuxyCore
import LuxyPlugins
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin HTTP API. Control plane: each request becomes a Task that asks the runtime, so
/// nothing here runs on a proxy loop's hot path.
public final class AdminServer: Sendable {
    private let channel: Channel

    public static func start(host: String, port: Int, group: EventLoopGroup, runtime: LuxyRuntime,
                             logger: Logger) async throws -> AdminServer {
        let api = AdminAPI(runtime: runtime)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(AdminRequestHandler(api: api))
                }
            }
            .bind(host: host, port: port)
            .get()
        logger.info("admin API listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        return AdminServer(channel: channel)
    }

    private init(channel: Channel) {
        self.channel = channel
    }

    public var localAddress: SocketAddress? { channel.localAddress }

    public func close() async {
        try? await channel.close()
    }
}

/// Reads one request, answers it from the API.
final class AdminRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let api: AdminAPI
    private var head: HTTPRequestHead?

    init(api: AdminAPI) {
        self.api = api
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let api = self.api
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let keepAlive = head.isKeepAlive
            let method = head.method
            let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let path = String(parts[0])
            let query = parts.count > 1 ? String(parts[1]) : ""
            Task {
                let reply = await api.handle(method: method, path: path, query: query)
                bound.eventLoop.execute {
                    AdminResponseWriter.write(reply, keepAlive: keepAlive, context: bound.value)
                }
            }
        }
    }

}

/// Writes an admin reply; outside the handler so a Task can call it without capturing it.
enum AdminResponseWriter {
    static func write(_ reply: AdminAPI.Reply, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: reply.contentType)
        headers.add(name: "content-length", value: String(reply.body.utf8.count))
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if !keepAlive { done.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }
}

@available(*, unavailable)
extension AdminRequestHandler: Sendable {}
