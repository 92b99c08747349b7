import LuxyConfig
import NIOCore
import NIOPosix

/// Opens upstream connections the one way every kind of upstream needs: on the caller's event
/// loop, with the cluster's connect timeout and TLS origination when configured, handed over
/// only once usable (connected and, over TLS, handshaken). Failures arrive as `UpstreamError`
/// with the channel closed.
enum UpstreamConnector {
    /// `configure` adds the protocol's handlers after the TLS handler (if any).
    static func connect(to endpoint: ClusterConfiguration.Endpoint, on eventLoop: EventLoop, timeout: TimeAmount,
                        tls: UpstreamTLS?, allowHalfClosure: Bool = false,
                        configure: @escaping @Sendable (Channel) throws -> Void,
                        completion: @escaping (Result<Channel, UpstreamError>) -> Void) {
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            // IPPROTO_TCP: `socketOption` would set SO_DEBUG (root only) instead of TCP_NODELAY.
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: allowHalfClosure)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try TLSSetup.addClientHandler(to: channel, tls: tls) }
                    try configure(channel)
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    TLSSetup.whenUpstreamReady(channel) { ready in
                        switch ready {
                        case .success:
                            completion(.success(channel))
                        case .failure(let error):
                            channel.close(promise: nil)
                            completion(.failure(error))
                        }
                    }
                case .failure(let error):
                    completion(.failure(UpstreamError.fromConnect(error)))
                }
            }
    }
}
