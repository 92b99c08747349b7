import LuxyConfig
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// One HTTP/2 connection to an upstream endpoint, and the last handler of its pipeline (it
/// sees the connection-level frames: GOAWAY). Requests are streams made with NIO's
/// multiplexer, each `HTTP2FramePayloadToHTTP1ClientCodec` → `HTTP2UpstreamStream`. Streams
/// asked for while connecting wait here; streams beyond the peer's SETTINGS limit wait in
/// NIO's concurrent-stream buffer.
final class HTTP2UpstreamConnection: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias Waiter = (Result<any UpstreamConnection, UpstreamError>) -> Void

    private enum State {
        case connecting([Waiter])
        case ready(Channel, NIOHTTP2Handler.StreamMultiplexer)
        case closed
    }

    private weak var pool: HTTP2UpstreamPool?
    private var state = State.connecting([])
    private var multiplexer: NIOHTTP2Handler.StreamMultiplexer?
    private var scheme = HTTP2FramePayloadToHTTP1ClientCodec.HTTPProtocol.http
    private var goingAway = false
    private var closeWhenDone = false
    private var openStreams = 0

    init(pool: HTTP2UpstreamPool) {
        self.pool = pool
    }

    var isAcceptingStreams: Bool {
        if case .closed = state { return false }
        return !goingAway && !closeWhenDone
    }

    func connect(to endpoint: ClusterConfiguration.Endpoint, on eventLoop: EventLoop, timeout: TimeAmount,
                 tls: UpstreamTLS?) {
        scheme = tls == nil ? .http : .https
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        UpstreamConnector.connect(to: endpoint, on: eventLoop, timeout: timeout, tls: tls, configure: { channel in
            var connection = NIOHTTP2Handler.ConnectionConfiguration()
            connection.initialSettings = [
                HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
                HTTP2Setting(parameter: .maxHeaderListSize, value: 1 << 16),
                HTTP2Setting(parameter: .enablePush, value: 0),
            ]
            connection.targetWindowSize = 4 << 20
            var stream = NIOHTTP2Handler.StreamConfiguration()
            stream.targetWindowSize = 1 << 20
            let sync = channel.pipeline.syncOperations
            // The upstream may not open streams towards us: refuse any it tries.
            bound.value.multiplexer = try sync.configureHTTP2Pipeline(
                mode: .client, connectionConfiguration: connection, streamConfiguration: stream
            ) { pushed in pushed.close() }
            try sync.addHandler(bound.value)
        }) { [self] result in
            switch result {
            case .success(let channel): connected(channel)
            case .failure(let error): failed(error)
            }
        }
    }

    private func connected(_ channel: Channel) {
        guard case .connecting(let waiters) = state, let multiplexer, channel.isActive else {
            return failed(.reset)
        }
        state = .ready(channel, multiplexer)
        for waiter in waiters { openStream(waiter) }
        if closeWhenDone { closeIfIdle() }
    }

    private func failed(_ error: UpstreamError) {
        pool?.connectionUnusable(self)
        if case .connecting(let waiters) = state {
            state = .closed
            for waiter in waiters { waiter(.failure(error)) }
        }
        state = .closed
    }

    /// A new stream for one request; `completion` runs on this loop.
    func openStream(_ completion: @escaping Waiter) {
        switch state {
        case .connecting(var waiters):
            waiters.append(completion)
            state = .connecting(waiters)
        case .closed:
            completion(.failure(.reset))
        case .ready(_, let multiplexer):
            openStreams += 1
            let scheme = self.scheme
            multiplexer.createStreamChannel { stream in
                stream.eventLoop.makeCompletedFuture {
                    let sync = stream.pipeline.syncOperations
                    try sync.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: scheme))
                    try sync.addHandler(HTTP2UpstreamStream())
                }
            }.assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let stream):
                    stream.closeFuture.assumeIsolated().whenComplete { [self] _ in streamClosed() }
                    guard let handler = try? stream.pipeline.syncOperations.handler(type: HTTP2UpstreamStream.self)
                    else {
                        stream.close(promise: nil)
                        return completion(.failure(.reset))
                    }
                    completion(.success(handler))
                case .failure:
                    streamClosed()
                    completion(.failure(.reset))
                }
            }
        }
    }

    private func streamClosed() {
        openStreams -= 1
        if closeWhenDone { closeIfIdle() }
    }

    /// Stops taking streams; the connection closes once the ones it carries ended.
    func closeWhenIdle() {
        closeWhenDone = true
        pool?.connectionUnusable(self)
        closeIfIdle()
    }

    private func closeIfIdle() {
        guard openStreams <= 0 else { return }
        switch state {
        case .ready(let channel, _):
            channel.close(promise: nil)
        case .connecting(let waiters) where waiters.isEmpty:
            break  // closes when it connects and finds nothing to do
        default:
            break
        }
    }

    // MARK: Channel events

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .goAway = Self.unwrapInboundIn(data).payload {
            // Streams the peer already took finish; new requests go to a new connection.
            goingAway = true
            pool?.connectionUnusable(self)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failed(.reset)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // NIO reports stream errors here too, so this does not close at once: no new streams,
        // and the connection goes when the others finished (or the peer closes it after the
        // GOAWAY NIO sent for a connection error, failing them with a reset).
        closeWhenIdle()
    }
}

@available(*, unavailable)
extension HTTP2UpstreamConnection: Sendable {}
