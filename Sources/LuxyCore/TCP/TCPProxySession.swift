import LuxyConfig
import NIOCore
import NIOPosix

/// Carries one TCP connection: the connect stages, the upstream connection (on the client's
/// loop), the bytes each way through the stages, half-closes, backpressure, the close
/// stages. Routing is by listener: its cluster, or the one its SNI routes pick by the TLS
/// server name (terminated, or read from the ClientHello and passed through).
///
/// Reads on a side are withheld while its bytes have somewhere to queue: stages still
/// working on an earlier chunk, or the other side not writable. So what the proxy holds per
/// connection stays near one read burst plus the channel's write high-water mark, whatever
/// the speed of either peer.
///
/// The generation it starts on is kept only until the upstream is connected (its clusters
/// pick the endpoint); from then on the session keeps just that generation's stage runtime,
/// which its stages run on, so a long session holds a Lua VM but no pools across reloads.
///
/// Only touched on its loop.
final class TCPProxySession {
    private enum State {
        case idle
        case connectStages
        case connecting
        case open
        case closed
    }

    let connection: TCPConnection
    private let loop: LoopContext
    /// Until the upstream is connected (or the session ends): its clusters serve the connect.
    private var connectingOn: LoopGeneration?
    private let stageRuntime: StageRuntime
    private let chain: TCPStageChain?
    private let downstream: TCPSideHandler
    private var upstream: TCPSideHandler?
    private var upstreamChannel: Channel?
    private var state = State.idle
    private var toUpstream: TCPStageFlow!
    private var toDownstream: TCPStageFlow!
    private var endedInputs: EndedInputs = []
    private var peakBuffered = 0
    /// What the client sent before the upstream was there: NIO reads a socket that reports
    /// end-of-stream even while reads are withheld.
    private var early: [HeldInput] = []
    private let listener: ListenerConfiguration

    init(listener: ListenerConfiguration, generation: LoopGeneration, loop: LoopContext, downstream: TCPSideHandler,
         local: SocketAddress?, remote: SocketAddress?, originalDestination: SocketAddress? = nil) {
        self.listener = listener
        self.loop = loop
        self.connectingOn = generation
        self.stageRuntime = generation.stageRuntime
        self.downstream = downstream
        self.connection = TCPConnection(listener: listener, loop: loop, local: local, remote: remote,
                                        originalDestination: originalDestination)
        self.chain = generation.tcpChains[listener.chain]
        let stages = chain?.stages ?? []
        toUpstream = TCPStageFlow(side: .downstream, stages: stages, connection: connection,
                                  deliver: { [unowned self] in forward($0, endOfStream: $1, to: .upstream) },
                                  stop: { [unowned self] in stopped(by: $0) })
        toDownstream = TCPStageFlow(side: .upstream, stages: stages.reversed(), connection: connection,
                                    deliver: { [unowned self] in forward($0, endOfStream: $1, to: .downstream) },
                                    stop: { [unowned self] in stopped(by: $0) })
        toUpstream.becameIdle = { [unowned self] in updateReading() }
        toDownstream.becameIdle = { [unowned self] in updateReading() }
        generation.exchangeStarted()
        stageRuntime.acquire()
        loop.connections[ObjectIdentifier(downstream)] = downstream
    }

    private var stats: ProxyStats { loop.stats }

    // MARK: Connect

    /// On a TLS listener this is after the handshake, so the connect stages see the peer and
    /// a refused peer never causes an upstream connect.
    func downstreamReady(tls: TLSConnectionInfo?, serverName: String?) {
        guard case .idle = state else { return }
        // Reads flowed for the TLS handshake; from here on the session decides.
        downstream.setReading(false)
        if let tls {
            guard tls.identityAllowed else { return finish(abort: true) }
            connection.tls = tls
            connection.peerIdentity = tls.peerValidated ? tls.peer?.preferredName : nil
        }
        connection.serverName = serverName
        if !listener.tcpRoutes.isEmpty {
            // Routing by SNI: the first route naming the server, else the listener's cluster.
            let routed = serverName.flatMap { name in listener.tcpRoutes.first { $0.matches(name) }?.cluster }
            guard let cluster = routed ?? listener.tcpCluster else {
                stats.increment("downstream_tcp_no_route")
                return finish(abort: true)
            }
            connection.clusterName = cluster
        }
        // A passthrough cluster gives way to the static cluster listing the original destination.
        if let destination = connection.originalDestination,
           let cluster = connectingOn?.services.cluster(named: connection.clusterName, originalDestination: destination) {
            connection.clusterName = cluster.config.name
        }
        stats.increment("downstream_tcp_connections")
        state = .connectStages
        runConnectStage(0, stages: (chain?.stages ?? []).filter(\.handlesConnect))
    }

    private func runConnectStage(_ index: Int, stages: [TCPStage]) {
        guard case .connectStages = state else { return }
        guard index < stages.count else { return connectUpstream() }
        let stage = stages[index]
        stage.runConnect(connection) { [self] verdict in
            switch verdict {
            case .proceed:
                runConnectStage(index + 1, stages: stages)
            case .refuse:
                stats.increment("downstream_tcp_refused")
                finish(abort: true)
            case .failed:
                stats.increment("downstream_tcp_plugin_failed")
                finish(abort: true)
            }
        }
    }

    private func connectUpstream() {
        guard case .connectStages = state else { return }
        let name = connection.clusterName
        guard let services = connectingOn?.services, let cluster = services.cluster(named: name) else {
            return connectFailed(.unknownCluster(name))
        }
        switch services.pick(on: cluster, originalDestination: connection.originalDestination,
                             direct: connection.downstreamDirectLocalAddress) {
        case .success(let pick):
            state = .connecting
            connect(to: pick, of: cluster, tried: .none)
        case .failure(let error):
            connectFailed(error)
        }
    }

    /// One connect attempt; a failed one moves on to an endpoint not tried yet (nothing was
    /// sent), as HTTP exchanges do.
    private func connect(to pick: UpstreamPick, of cluster: UpstreamCluster, tried: UpstreamEndpointSet) {
        let endpoint = pick.pool.endpoint
        connection.upstreamTarget = endpoint.description
        let tls = cluster.tls(for: endpoint)
        let timeout = TimeAmount.milliseconds(Int64(cluster.config.connectTimeoutMilliseconds))
        // Over TLS the bytes start flowing once the handshake is done; a failed one is a
        // failed connect.
        UpstreamConnector.connect(to: endpoint, on: loop.eventLoop, timeout: timeout, tls: tls, allowHalfClosure: true,
                                  configure: { channel in
            try channel.pipeline.syncOperations.addHandler(TCPSideHandler(side: .upstream, overTLS: tls != nil))
        }) { [self] result in
            // A tcp endpoint's outcome is its connect: that is what outlier detection can judge.
            switch result {
            case .success(let channel):
                cluster.recordOutcome(of: pick, .success)
                connected(channel)
            case .failure(let error):
                cluster.recordOutcome(of: pick, .gatewayFailure)
                var tried = tried
                tried.insert(pick.endpointIndex)
                if error.isConnectFailure, case .connecting = state,
                   let next = cluster.pickPool(excluding: tried) {
                    stats.increment("upstream_connect_failover")
                    return connect(to: next, of: cluster, tried: tried)
                }
                connectFailed(error)
            }
        }
    }

    private func connected(_ channel: Channel) {
        guard case .connecting = state,
              let handler = try? channel.pipeline.syncOperations.handler(type: TCPSideHandler.self)
        else {
            channel.close(promise: nil)
            return
        }
        upstream = handler
        upstreamChannel = channel
        handler.session = self
        state = .open
        releaseGeneration()
        // The upstream may have gone between connecting and now; its handler missed telling us.
        guard channel.isActive else { return channelClosed(.upstream) }
        let early = self.early
        self.early = []
        for input in early {
            switch input {
            case .bytes(let bytes): toUpstream.enqueue(bytes, endOfStream: false)
            case .end: toUpstream.enqueue(ByteBuffer(), endOfStream: true)
            }
        }
        updateReading()
    }

    private func connectFailed(_ error: UpstreamError) {
        guard state != .closed else { return }
        stats.increment(error.counterName)
        finish(abort: true)
    }

    // MARK: Bytes

    func received(_ bytes: ByteBuffer, from side: TCPSide) {
        guard case .open = state else {
            if side == .downstream, state != .closed { early.append(.bytes(bytes)) }
            return
        }
        flow(from: side).enqueue(bytes, endOfStream: false)
        updateReading()
    }

    /// The peer on `side` half-closed (shut its output): hand on the end of its stream.
    func inputClosed(_ side: TCPSide) {
        guard endedInputs.end(side) else { return }
        guard case .open = state else {
            // Handed on once connected: a client may send a request and half-close at once.
            if side == .downstream, state != .closed { early.append(.end) }
            return
        }
        flow(from: side).enqueue(ByteBuffer(), endOfStream: true)
        updateReading()
    }

    /// `side`'s channel closed entirely: its stream ended, and it reads nothing more, so once
    /// its end has gone through the stages the connection is over.
    func channelClosed(_ side: TCPSide) {
        guard state != .closed else { return }
        guard case .open = state else { return finish(abort: true) }
        inputClosed(side)
        if flow(from: side).ended { finish(abort: false) }
    }

    func writabilityChanged() {
        updateReading()
    }

    private func forward(_ bytes: ByteBuffer, endOfStream: Bool, to side: TCPSide) {
        guard case .open = state, let target = handler(side) else { return }
        if bytes.readableBytes > 0 {
            target.write(bytes)
            recordBuffered()
        }
        guard endOfStream else { return }
        let other = side == .upstream ? downstream : upstream
        // The source is gone entirely (not just half-closed): nothing can answer it any more.
        if other?.context?.channel.isActive != true { return finish(abort: false) }
        target.shutdownOutput()
        if toUpstream.ended, toDownstream.ended { finish(abort: false) }
    }

    private func stopped(by reason: TCPStageFlow.Stop) {
        switch reason {
        case .closedBy: stats.increment("downstream_tcp_closed_by_plugin")
        case .failed: stats.increment("downstream_tcp_plugin_failed")
        }
        finish(abort: true)
    }

    // MARK: Backpressure

    private func updateReading() {
        guard case .open = state, let upstream else { return }
        downstream.setReading(endedInputs.isOpen(.downstream) && toUpstream.isIdle && upstream.isWritable)
        upstream.setReading(endedInputs.isOpen(.upstream) && toDownstream.isIdle && downstream.isWritable)
    }

    private func recordBuffered() {
        let buffered = toUpstream.bufferedBytes + toDownstream.bufferedBytes + downstream.unsentBytes
            + (upstream?.unsentBytes ?? 0)
        guard buffered > peakBuffered else { return }
        peakBuffered = buffered
        stats.recordMax("tcp_buffered_bytes_max", buffered)
    }

    // MARK: End

    /// Closes both sides (after what was written is sent, unless `abort`), then runs the
    /// close stages. Once.
    private func finish(abort: Bool) {
        guard state != .closed else { return }
        // A client gone (or refused) before it was ready never met the stages.
        let started = state != .idle
        state = .closed
        toUpstream.cancel()
        toDownstream.cancel()
        downstream.close(abort: abort)
        upstream?.close(abort: abort)
        downstream.session = nil
        upstream?.session = nil
        loop.connections[ObjectIdentifier(downstream)] = nil
        for stage in chain?.stages ?? [] where started && stage.handlesClose { stage.runClose(connection) }
        if connection.pluginState != nil { chain?.finishConnection?(connection) }
        releaseGeneration()
        stageRuntime.release()
    }

    /// Connected or over: the clusters are no longer needed, and a reload may close them.
    private func releaseGeneration() {
        guard let generation = connectingOn else { return }
        connectingOn = nil
        generation.exchangeEnded()
    }

    private func flow(from side: TCPSide) -> TCPStageFlow {
        side == .downstream ? toUpstream : toDownstream
    }

    private func handler(_ side: TCPSide) -> TCPSideHandler? {
        side == .downstream ? downstream : upstream
    }
}

@available(*, unavailable)
extension TCPProxySession: Sendable {}

extension TCPProxySession: TCPSideDelegate {}
