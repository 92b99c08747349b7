@testable import LuxyCore
import LuxyConfig
import NIOCore
import NIOEmbedded
import NIOHTTP1
import XCTest

/// One downstream HTTP/1.1 connection on an `EmbeddedChannel`: the handlers
/// `HTTPProxyPipeline.configureHTTP1` adds (`RequestFastPath`, NIO's request decoder, then
/// `HTTPProxyHandler`),
/// behind a stand-in for the socket (`SocketStandIn`), with a `LoopContext` and a
/// committed `LoopGeneration` on the channel's `EmbeddedEventLoop`, as `ProxyServer` sets
/// them up. Time only moves when the test advances the loop's clock.
final class ProxyConnection {
    /// `limits.idle_timeout` in `yaml`.
    static let idleTimeout = TimeAmount.seconds(10)
    /// `limits.request_header_timeout` in `yaml`.
    static let headerTimeout = TimeAmount.seconds(4)
    /// `limits.request_body_timeout` in `yaml`.
    static let bodyTimeout = TimeAmount.seconds(10)
    /// `limits.send_timeout` in `yaml`.
    static let sendTimeout = TimeAmount.seconds(6)

    /// Routes that need nothing else running. The ones with `service: held` wait in
    /// `HoldingStage` until the test lets them go on; that is how a request stays in flight.
    static let yaml = """
        limits:
          idle_timeout: 10s
          request_header_timeout: 4s
          request_body_timeout: 10s
          send_timeout: 6s
          max_header_bytes: 1024
          max_buffered_body_bytes: 1048576
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:8080
            virtual_hosts:
              - name: local
                domains: ["*"]
                routes:
                  - name: hello
                    match: {path: /hello}
                    direct_response: {status: 200, body: "hello\\n"}
                  - name: held
                    match: {path: /held}
                    direct_response: {status: 200, body: "held\\n"}
                    service: held
                  - name: echo
                    match: {path: /echo}
                    echo: true
                  - name: held-echo
                    match: {path: /held-echo}
                    echo: true
                    service: held
                  - name: upstream
                    match: {prefix: /up}
                    cluster: backend
        clusters:
          - name: backend
            endpoints: ["127.0.0.1:9"]
        """

    let loop: EmbeddedEventLoop
    let channel: EmbeddedChannel
    let context: LoopContext
    let generation: LoopGeneration
    let handler: HTTPProxyHandler
    let holds = HoldingStage(service: "held")
    let socket = SocketStandIn()

    init() throws {
        let configuration = try ConfigurationLoader.parse(yaml: Self.yaml, file: "/test/luxy.yaml")
        loop = EmbeddedEventLoop()
        channel = EmbeddedChannel(loop: loop)
        context = LoopContext(eventLoop: loop, tlsStores: nil)
        context.pendingGeneration = try LoopGeneration(
            number: 1, configuration: configuration,
            chains: LoopChains(chains: [.inboundHTTP: HTTPStageChain(stages: [holds])]), loop: context)
        context.commitPending()
        generation = try XCTUnwrap(context.generation)
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(socket)
        try HTTPProxyPipeline.configureHTTP1(sync, listener: configuration.listeners[0],
                                             limits: configuration.limits, loop: context)
        handler = try sync.handler(type: HTTPProxyHandler.self)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
    }

    /// The client's bytes arrive in one read, and then, as a socket channel with auto-read
    /// does after each read, the channel asks for the next read (`socket.reads` counts it if it gets
    /// through the handlers). Then the loop's turn ends: the tasks it queued run, the flushes
    /// of `LoopFlushes` among them.
    func send(_ text: String) throws {
        try send(ByteBuffer(string: text))
    }

    func send(_ bytes: ByteBuffer) throws {
        try channel.writeInbound(bytes)
        if channel.isActive { channel.read() }
        loop.run()
    }

    /// Everything the handler wrote and flushed since the last call, as one string: at the
    /// end of the loop's turn, where the handler's answers are flushed (`LoopFlushes`).
    func output() throws -> String {
        loop.run()
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// Moves the loop's clock on, running the timers that come due.
    func advance(by amount: TimeAmount) {
        loop.advanceTime(by: amount)
    }

    /// What `ProxyServer.shutdown` does on this loop before its drain timeout.
    func drain() {
        context.isDraining = true
        for connection in context.connections.values { connection.quiesce() }
    }

    /// Every exchange the generation saw has ended: once retired, it closes at once.
    func assertEveryExchangeEnded(file: StaticString = #filePath, line: UInt = #line) {
        generation.retire()
        XCTAssertTrue(generation.isClosed, "an exchange is still counted as running", file: file, line: line)
    }

    func finish() throws {
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}

/// A stage that answers nothing until the test says so, for the routes of one service: the
/// request stays in flight, as one waiting on a plugin or an upstream does.
final class HoldingStage: HTTPStage {
    let name = "hold"
    let handlesRequest = true
    let handlesResponse = false
    let service: String
    private(set) var waiting: [HTTPExchange] = []

    init(service: String) {
        self.service = service
    }

    func applies(to route: RouteMatch) -> Bool {
        route.service == service
    }

    func runRequest(_ exchange: HTTPExchange) {
        waiting.append(exchange)
    }

    func runResponse(_ exchange: HTTPExchange) {
        exchange.resume(.proceed)
    }

    /// Lets the oldest waiting request go on to its route's action.
    func release() {
        guard !waiting.isEmpty else { return XCTFail("no request is waiting in the stage") }
        waiting.removeFirst().resume(.proceed)
    }
}

/// Stands where the socket would be, in front of everything: counts the reads that reach
/// the channel (that no handler withheld), and refuses writes once the channel is closed, as
/// a socket channel does (an `EmbeddedChannel` would still take them), counting them.
final class SocketStandIn: ChannelOutboundHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private(set) var reads = 0
    private(set) var writesAfterClose = 0
    /// Flushes that reached the socket: each is a `write` system call on a real one.
    private(set) var flushes = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard context.channel.isActive else {
            writesAfterClose += 1
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

/// A response as `LocalReply` makes it (direct responses and errors), with the
/// `connection: close` the handler adds to a connection's last answer.
func reply(_ body: String, status: String = "200 OK", version: String = "HTTP/1.1",
           contentType: String = "text/plain", close: Bool = false, head: Bool = false) -> String {
    var text = "\(version) \(status)\r\ncontent-type: \(contentType)\r\ncontent-length: \(body.utf8.count)\r\n"
    if close { text += "connection: close\r\n" }
    text += "\r\n"
    return head ? text : text + body
}

let helloReply = reply("hello\n")
let headerTimeoutReply = reply("request header timeout\n", status: "408 Request Timeout", close: true)
let bodyTimeoutReply = reply("request body timeout\n", status: "408 Request Timeout", close: true)
let heldReply = reply("held\n")
