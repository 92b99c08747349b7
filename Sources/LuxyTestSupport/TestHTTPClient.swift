import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A response as bytes on the wire said it, parsed without NIO's decoder so tests also see
/// what a strict client would reject.
public struct TestHTTPResponse: Sendable, CustomStringConvertible {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: String
    /// The status line's text after the code (`OK`, or what a script set).
    public var reasonPhrase = ""

    public func header(_ name: String) -> String? {
        let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    public var description: String {
        "\(status)\n" + headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + "\n\n" + body
    }
}

public enum TestHTTPClientError: Error, CustomStringConvertible {
    case closedBeforeResponse(String)
    case timedOut(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .closedBeforeResponse(let got): return "connection closed before a full response; got: \(got)"
        case .timedOut(let got): return "no full response in time; got: \(got)"
        case .malformed(let got): return "malformed response: \(got)"
        }
    }
}

/// One TCP connection speaking raw HTTP/1.1: send any bytes (malformed ones included), read
/// whole responses one at a time.
public final class TestHTTPConnection: Sendable {
    let channel: Channel
    private let inbox: NIOLockedValueBox<Inbox>

    struct Inbox {
        var bytes = ByteBuffer()
        var closed = false
        var version = 0
        var waiter: CheckedContinuation<Void, Never>?

        mutating func changed() {
            version += 1
            waiter?.resume()
            waiter = nil
        }
    }

    public static func connect(port: Int, group: EventLoopGroup) async throws -> TestHTTPConnection {
        let inbox = NIOLockedValueBox(Inbox())
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectingHandler(inbox: inbox))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        return TestHTTPConnection(channel: channel, inbox: inbox)
    }

    init(channel: Channel, inbox: NIOLockedValueBox<Inbox>) {
        self.channel = channel
        self.inbox = inbox
    }

    public var isClosed: Bool { inbox.withLockedValue { $0.closed } }

    public func send(_ raw: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: raw))
    }

    public func send(_ bytes: ByteBuffer) async throws {
        try await channel.writeAndFlush(bytes)
    }

    /// Sends a request with `content-length` set from `body`.
    public func request(_ method: String = "GET", _ path: String, headers: [(String, String)] = [],
                        body: String? = nil, host: String = "localhost") async throws -> TestHTTPResponse {
        var raw = "\(method) \(path) HTTP/1.1\r\nhost: \(host)\r\n"
        for (name, value) in headers { raw += "\(name): \(value)\r\n" }
        if let body { raw += "content-length: \(body.utf8.count)\r\n" }
        raw += "\r\n" + (body ?? "")
        try await send(raw)
        return try await readResponse(isHead: method == "HEAD")
    }

    /// Reads one whole response (bounded by `timeout`).
    public func readResponse(isHead: Bool = false, timeout: Duration = .seconds(10)) async throws -> TestHTTPResponse {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (parsed, closed, version, text) = try inbox.withLockedValue { inbox in
                let parsed = try TestHTTPResponseParser.parse(&inbox.bytes, isHead: isHead, isClosed: inbox.closed)
                return (parsed, inbox.closed, inbox.version, String(buffer: inbox.bytes))
            }
            if let parsed { return parsed }
            if closed { throw TestHTTPClientError.closedBeforeResponse(text) }
            guard ContinuousClock.now < deadline else { throw TestHTTPClientError.timedOut(text) }
            await waitForChange(since: version, until: deadline)
        }
    }

    /// True when the peer closed the connection within `timeout`.
    public func waitForClose(timeout: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (closed, version) = inbox.withLockedValue { ($0.closed, $0.version) }
            if closed { return true }
            await waitForChange(since: version, until: deadline)
        }
        return isClosed
    }

    /// Everything received and not yet parsed as a response.
    public var unparsedBytes: String { inbox.withLockedValue { String(buffer: $0.bytes) } }

    public func close() async {
        try? await channel.close()
    }

    private func waitForChange(since version: Int, until deadline: ContinuousClock.Instant) async {
        let remaining = ContinuousClock.now.duration(to: deadline)
        let nanos = max(Int64(remaining.components.seconds) * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000, 1)
        let inbox = self.inbox
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(nanos)) {
            inbox.withLockedValue { $0.changed() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            inbox.withLockedValue { inbox in
                if inbox.version != version {
                    continuation.resume()
                } else {
                    inbox.waiter = continuation
                }
            }
        }
        timer.cancel()
    }
}

final class CollectingHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let inbox: NIOLockedValueBox<TestHTTPConnection.Inbox>

    init(inbox: NIOLockedValueBox<TestHTTPConnection.Inbox>) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = Self.unwrapInboundIn(data)
        inbox.withLockedValue { inbox in
            inbox.bytes.writeBuffer(&bytes)
            inbox.changed()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.withLockedValue { inbox in
            inbox.closed = true
            inbox.changed()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
