#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A raw TCP client for tests: send bytes, half-close, collect what comes back, see the close.
/// With `slowReadInterval` it reads at most 16 KiB once per interval (autoRead off): a
/// deliberately slow reader that makes the proxy hold its upstream back.
public final class TestTCPClient: Sendable {
    private let channel: Channel
    private let state: NIOLockedValueBox<State>

    struct State {
        var received: [UInt8] = []
        var receivedCount = 0
        var keepBytes = true
        /// For pattern transfers: whether every byte so far matched `pattern(index)`.
        var patternIntact = true
        var checkPattern = false
        var closed = false
        var endOfStream = false
    }

    /// With `tls` the bytes go over TLS (written ones wait for the handshake); a refused
    /// handshake shows as `isClosed`, and so does the server's end of stream (no half-close).
    /// `receiveBufferSize` shrinks the socket's receive buffer (SO_RCVBUF, set before the
    /// connect so the window is small from the start): with a reader that never reads, the
    /// server's writes back up after little data.
    public static func connect(port: Int, group: EventLoopGroup, slowReadInterval: TimeAmount? = nil,
                               checkPattern: Bool = false, tls: TLSConfiguration? = nil,
                               serverName: String? = nil, receiveBufferSize: Int? = nil) async throws -> TestTCPClient {
        let state = NIOLockedValueBox(State(keepBytes: !checkPattern, checkPattern: checkPattern))
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        var bootstrap = ClientBootstrap(group: group)
        if let receiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
        }
        let channel = try await bootstrap
            // Not over TLS: NIOSSL with half-closure allowed leaves a close it started waiting
            // for its 5 s timeout even after the peer's close_notify came.
            .channelOption(.allowRemoteHalfClosure, value: tls == nil)
            .channelOption(.autoRead, value: slowReadInterval == nil)
            // A slow reader takes at most 16 KiB per read() call.
            .channelOption(.maxMessagesPerRead, value: slowReadInterval == nil ? UInt(4) : UInt(1))
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 1024))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientHandler(state: state))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        if let interval = slowReadInterval {
            channel.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { task in
                if channel.isActive { channel.read() } else { task.cancel() }
            }
        }
        return TestTCPClient(channel: channel, state: state)
    }

    private init(channel: Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
    }

    /// The byte at `index` of a pattern transfer.
    public static func pattern(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index % 251) }

    public func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Bytes as they are (binary protocols, such as raw HTTP/2 frames).
    public func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    /// Writes `count` pattern bytes in chunks, each after the previous one was sent, so the
    /// client itself never queues much.
    public func sendPattern(count: Int) async throws {
        // A whole number of pattern periods, so every chunk starts at phase 0 and is the same.
        let chunk = ByteBuffer(bytes: Self.reference.prefix(251 * 256))
        var offset = 0
        while offset < count {
            let n = min(chunk.readableBytes, count - offset)
            try await channel.writeAndFlush(chunk.getSlice(at: chunk.readerIndex, length: n)!)
            offset += n
        }
    }

    /// The pattern from index 0, long enough to compare any received chunk against with memcmp.
    static let reference: [UInt8] = (0..<(251 * 1024)).map { pattern($0) }

    /// Shuts the write side: the server reads end-of-stream, this client can still read.
    public func shutdownWrite() async throws {
        try await channel.close(mode: .output)
    }

    public var receivedBytes: [UInt8] { state.withLockedValue { $0.received } }
    public var receivedText: String { state.withLockedValue { String(decoding: $0.received, as: UTF8.self) } }
    public var receivedCount: Int { state.withLockedValue { $0.receivedCount } }
    public var patternIntact: Bool { state.withLockedValue { $0.patternIntact } }
    /// The server closed (or half-closed) its side.
    public var isClosed: Bool { state.withLockedValue { $0.closed || $0.endOfStream } }

    /// Polls until `condition` holds or `timeout` passes; returns whether it held.
    @discardableResult
    public func wait(timeout: Duration = .seconds(5), until condition: (TestTCPClient) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(self)
    }

    public func close() async {
        try? await channel.close()
    }

    private final class ClientHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Self.unwrapInboundIn(data)
            state.withLockedValue { state in
                if state.checkPattern, state.patternIntact {
                    state.patternIntact = Self.matchesPattern(bytes, from: state.receivedCount)
                }
                if state.keepBytes { state.received += bytes.readableBytesView }
                state.receivedCount += bytes.readableBytes
            }
        }

        /// memcmp against the reference: per-byte Swift loops are slow in debug builds.
        static func matchesPattern(_ bytes: ByteBuffer, from start: Int) -> Bool {
            bytes.withUnsafeReadableBytes { received in
                TestTCPClient.reference.withUnsafeBytes { reference in
                    var done = 0
                    while done < received.count {
                        let phase = (start + done) % 251
                        let n = min(received.count - done, reference.count - phase)
                        if memcmp(received.baseAddress! + done, reference.baseAddress! + phase, n) != 0 { return false }
                        done += n
                    }
                    return true
                }
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed {
                state.withLockedValue { $0.endOfStream = true }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.closed = true }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
