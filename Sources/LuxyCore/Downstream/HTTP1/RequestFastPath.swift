import NIOCore
import NIOHTTP1

/// In front of NIO's request decoder on a client HTTP/1.1 connection. The common request
/// (`RequestHeadParser`: the usual methods, an origin-form target, its head whole in one
/// read, a `content-length` body or none) is read here straight from the bytes and handed to
/// the connection's `HTTPProxyHandler`, body slices included, pipelined requests of the same
/// read one after the other: no decoder hop, no llhttp callbacks, no part wrapped per
/// message. The first request it does not take (a head split over reads, chunked, an
/// upgrade, anything irregular), from its first byte on, and everything after it on that
/// connection go to NIO's decoder, which answers errors with 400 or 431 as before: the
/// switch happens only between requests, so the decoder starts at a message's first byte.
///
/// Loop-confined: all of it runs on the connection's event loop.
final class RequestFastPath: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private(set) var state = HTTP1FastPathState.betweenMessages
    private let maxHeadBytes: Int
    private let maxFields: Int
    /// The loop's long field strings seen lately, shared by its client connections.
    private let strings: RepeatedFieldStrings
    /// The handler behind the decoder; both live in the same pipeline, and an upgrade (which
    /// only the decoder reads) removes both. Strong and constant, so reaching it costs no
    /// reference counting (an unowned reference cost two atomic operations per use). The
    /// handler writes through this path's context (`HTTPProxyHandler.outbound`) and lets go of
    /// it when it leaves the pipeline, which ends the cycle.
    let handler: HTTPProxyHandler
    /// Pipelined requests of one read stop at a close (`deliver`).
    private var openness = ChannelOpenness.notYetActive

    /// `maxHeadBytes`, `maxFields`: the listener's bounds on a head; one past either is
    /// llhttp's to refuse (431). `strings`: the loop's (`LoopContext.fieldStrings`).
    init(handler: HTTPProxyHandler, maxHeadBytes: Int, maxFields: Int, strings: RepeatedFieldStrings) {
        self.handler = handler
        self.maxHeadBytes = maxHeadBytes
        self.maxFields = maxFields
        self.strings = strings
    }

    func handlerAdded(context: ChannelHandlerContext) {
        openness = ChannelOpenness(joining: context)
    }

    func channelActive(context: ChannelHandlerContext) {
        openness.becameActive()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        openness = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handler.loop.clock.duringRead { deliver(context: context, data: data) }
    }

    private func deliver(context: ChannelHandlerContext, data: NIOAny) {
        if case .decoder = state { return context.fireChannelRead(data) }
        var buffer = Self.unwrapInboundIn(data)
        // One read may carry several requests (pipelining), and the end of one.
        while buffer.readableBytes > 0, openness.isOpen {
            switch state {
            case .decoder:
                return context.fireChannelRead(Self.wrapInboundOut(buffer))
            case .body(let remaining):
                let length = min(remaining, buffer.readableBytes)
                if let slice = buffer.readSlice(length: length) { handler.receive(.body(slice)) }
                if remaining == length { endRequest() } else { state = .body(remaining: remaining - length) }
            case .betweenMessages:
                guard case .parsed(let parsed) = RequestHeadParser.parse(buffer, maxHeadBytes: maxHeadBytes,
                                                                          maxFields: maxFields, strings: strings)
                else {
                    state = .decoder
                    return context.fireChannelRead(Self.wrapInboundOut(buffer))
                }
                let bodyLength = parsed.bodyLength
                buffer.moveReaderIndex(forwardBy: parsed.headLength)
                state = .body(remaining: bodyLength)
                // Handed over, not copied: the stages run within this call, and a field one
                // adds must change the only copy of the fields, not copy them all.
                let facts = parsed.facts
                handler.receive(.head((consume parsed).head), facts: facts)
                if bodyLength == 0 { endRequest() }
            }
        }
    }

    /// The read's end goes straight to the handler, as the parts this path reads do: NIO's
    /// decoder in between does nothing on it (`ByteToMessageHandler` decodes on each read),
    /// and passing it through costs a pipeline hop per handler.
    func channelReadComplete(context: ChannelHandlerContext) {
        handler.readCompleted()
    }

    private func endRequest() {
        state = .betweenMessages
        handler.receive(.end(nil))
    }
}

@available(*, unavailable)
extension RequestFastPath: Sendable {}
