import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// A response as an HTTP/2 client saw it, trailers included.
public struct TestHTTP2Response: Sendable, CustomStringConvertible {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: String
    public var trailers: HTTPHeaders?

    public func header(_ name: String) -> String? {
        let values = headers[name]
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    public var description: String {
        "\(status)\n\(headers)\n\n\(body)\n\(trailers.map { "trailers: \($0)" } ?? "")"
    }
}

/// One HTTP/2 connection (h2c prior knowledge, or h2 over TLS with ALPN), many concurrent
/// requests as streams. Built on NIO, so tests see trailers and stream-level behaviour.
public final class TestHTTP2Client: Sendable {
    private let channel: Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer

    /// `validatingHeaders: false` lets the client send what NIO would refuse to (a space in
    /// `:authority`, a `#` in `:path`), for tests of what the proxy does with it.
    public static func connect(port: Int, group: EventLoopGroup, tls: TLSConfiguration? = nil,
                               serverName: String? = nil, validatingHeaders: Bool = true) async throws -> TestHTTP2Client {
        var configuration = NIOHTTP2Handler.ConnectionConfiguration()
        if !validatingHeaders { configuration.headerBlockValidation = .disabled }
        // A constant for the channel initializer, which runs on the loop.
        let connection = configuration
        let sslContext = try tls.map { config -> NIOSSLContext in
            var config = config
            config.applicationProtocols = ["h2"]
            return try NIOSSLContext(configuration: config)
        }
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: connection, streamConfiguration: .init()
                    ) { $0.close() }
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        let multiplexer = try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
        }.get()
        return TestHTTP2Client(channel: channel, multiplexer: multiplexer)
    }

    private init(channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer) {
        self.channel = channel
        self.multiplexer = multiplexer
    }

    /// One request on a new stream. `authority` becomes `:authority`.
    public func request(_ method: String = "GET", _ path: String, authority: String = "localhost",
                        headers: [(String, String)] = [], body: String? = nil, trailers: [(String, String)]? = nil,
                        timeout: TimeAmount = .seconds(10)) async throws -> TestHTTP2Response {
        let promise = channel.eventLoop.makePromise(of: TestHTTP2Response.self)
        var fields = HTTPHeaders([("host", authority)])
        for (name, value) in headers { fields.add(name: name, value: value) }
        if let body, trailers == nil { fields.replaceOrAdd(name: "content-length", value: String(body.utf8.count)) }
        let head = HTTPRequestHead(version: .http2, method: HTTPMethod(rawValue: method), uri: path, headers: fields)
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(TestHTTPClientError.timedOut("no HTTP/2 response to \(method) \(path)"))
        }
        multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                try stream.pipeline.syncOperations.addHandler(TestHTTP2ResponseCollector(promise: promise))
            }
        }.whenComplete { result in
            switch result {
            case .success(let stream):
                stream.write(HTTPClientRequestPart.head(head), promise: nil)
                if let body { stream.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil) }
                let end = trailers.map { HTTPHeaders($0) }
                stream.writeAndFlush(HTTPClientRequestPart.end(end), promise: nil)
            case .failure(let error):
                promise.fail(error)
            }
        }
        defer { timer.cancel() }
        return try await promise.futureResult.get()
    }

    public func close() async {
        try? await channel.close()
    }
}

final class TestHTTP2ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<TestHTTP2Response>
    private var response = TestHTTP2Response(status: 0, headers: [:], body: "", trailers: nil)

    init(promise: EventLoopPromise<TestHTTP2Response>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            response.status = Int(head.status.code)
            response.headers = head.headers
        case .body(let buffer):
            response.body += String(buffer: buffer)
        case .end(let trailers):
            response.trailers = trailers
            promise.succeed(response)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(TestHTTPClientError.closedBeforeResponse("stream closed; got \(response)"))
    }
}

@available(*, unavailable)
extension TestHTTP2ResponseCollector: Sendable {}
