import LuxyConfig
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to one endpoint from one event loop. Loop-confined, so it needs no
/// lock; the connections it opens live on the same loop as the requests that use them.
final class UpstreamPool {
    let endpoint: ClusterConfiguration.Endpoint
    private let eventLoop: EventLoop
    private let connectTimeout: TimeAmount
    private let maxIdle: Int
    private let tls: UpstreamTLS?
    private var idle: [UpstreamConnectionHandler] = []
    private var isClosed = false

    init(endpoint: ClusterConfiguration.Endpoint, eventLoop: EventLoop, connectTimeout: TimeAmount, maxIdle: Int,
         tls: UpstreamTLS? = nil) {
        self.endpoint = endpoint
        self.tls = tls
        self.eventLoop = eventLoop
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdle
    }

    func acquire(_ completion: @escaping (Result<UpstreamConnectionHandler, UpstreamError>) -> Void) {
        while let connection = idle.popLast() {
            if connection.isUsable {
                completion(.success(connection))
                return
            }
        }
        connect(completion)
    }

    func release(_ connection: UpstreamConnectionHandler) {
        guard !isClosed, idle.count < maxIdle, connection.isUsable else {
            connection.channel?.close(promise: nil)
            return
        }
        idle.append(connection)
    }

    func forget(_ connection: UpstreamConnectionHandler) {
        idle.removeAll { $0 === connection }
    }

    /// The generation owning this pool is gone: close what idles, refuse to keep more.
    func close() {
        isClosed = true
        let connections = idle
        idle.removeAll()
        for connection in connections { connection.channel?.close(promise: nil) }
    }

    private func connect(_ completion: @escaping (Result<UpstreamConnectionHandler, UpstreamError>) -> Void) {
        let tls = self.tls
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try TLSSetup.addClientHandler(to: channel, tls: tls) }
                    // Bytes an upstream sends right behind a 101 are the tunnel's: kept when the
                    // decoder is removed.
                    // Request headers are valid by construction (parsed from the client, or set
                    // by a script through the checking Lua host), so NIO's validator is left out.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamConnectionHandler())
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    guard let handler = try? channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self)
                    else {
                        channel.close(promise: nil)
                        completion(.failure(.reset))
                        return
                    }
                    handler.pool = self
                    // A TLS connection is handed out only once its handshake succeeded.
                    TLSSetup.whenUpstreamReady(channel) { ready in
                        completion(ready.map { handler })
                    }
                case .failure(let error):
                    completion(.failure(UpstreamError.fromConnect(error)))
                }
            }
    }
}

@available(*, unavailable)
extension UpstreamPool: Sendable {}
