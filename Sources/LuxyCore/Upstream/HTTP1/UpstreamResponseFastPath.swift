import NIOCore
import NIOHTTP1

/// In front of NIO's response decoder on an upstream HTTP/1.1 connection. The common response
/// (`UpstreamResponseHeadParser`: a final status, its head whole in one read, a body framed
/// by `content-length`) is read here straight from the bytes and handed to the connection
/// handler, body slices included: no decoder hop, no llhttp callbacks, no message wrapped
/// per part. The first response it does not take (a 1xx, chunked, a head split over reads,
/// anything irregular) and everything after it on that connection go to NIO's decoder, which
/// is then told of each request as before: the switch happens only between responses, so
/// the decoder starts at a message's first byte.
///
/// Bytes left in a read after a response's end (the upstream sent more than it framed) are
/// never taken for the next response: the connection closes instead of going back to the
/// pool, so an upstream that frames ambiguously cannot desynchronise a pooled connection.
///
/// Loop-confined: all of it runs on the connection's event loop.
final class UpstreamResponseFastPath: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private(set) var state = HTTP1FastPathState.betweenMessages
    private let decoder: UpstreamResponseDecoder
    /// The pool's long field strings seen lately (its endpoint's `date`, `content-type`).
    private let strings: RepeatedFieldStrings
    /// The request whose response comes next, once its head went out; nil while none is out
    /// (or once the decoder was told of it).
    private var expected: HTTPRequestHead?
    /// The handler behind the decoder, set where the pipeline is built (as `RequestFastPath`'s
    /// handler is). Both live in the same pipeline, and the tunnel that takes a switched
    /// connection over removes both.
    unowned var connection: UpstreamConnectionHandler?

    init(decoder: UpstreamResponseDecoder, strings: RepeatedFieldStrings) {
        self.decoder = decoder
        self.strings = strings
    }

    /// A request went out on this connection: its answer is the next response.
    func expectResponse(to head: HTTPRequestHead) {
        if case .decoder = state {
            decoder.expectResponse(to: head)
        } else {
            expected = head
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .decoder:
            context.fireChannelRead(data)
        case .betweenMessages:
            var buffer = Self.unwrapInboundIn(data)
            guard let request = expected else { return handOverToDecoder(context: context, data: data) }
            if let connection, connection.forwardsResponseHeadAsItCame {
                let capacity = Self.forwardedHeadCapacity(reading: buffer)
                switch UpstreamResponseHeadParser.parseForwarding(buffer, respondingTo: request.method,
                                                                  into: connection.takeHeadBuffer(capacity: capacity)) {
                case .parsed(let forwarded):
                    expected = nil
                    let headLength = forwarded.headLength, bodyLength = forwarded.bodyLength
                    let keepAlive = forwarded.keepAlive
                    return deliver((consume forwarded).head, headLength: headLength, bodyLength: bodyLength,
                                   keepAlive: keepAlive, from: &buffer)
                case .parseInstead(let unused):
                    connection.keepHeadBuffer(unused)
                }
            }
            guard case .parsed(var parsed) = UpstreamResponseHeadParser.parse(buffer, respondingTo: request.method,
                                                                                strings: strings,
                                                                                droppingHopByHop: true)
            else {
                return handOverToDecoder(context: context, data: data)
            }
            expected = nil
            // The head is this path's own: its hop-by-hop fields were left out as it was read,
            // and the rare ones only the strip knows what to do with go in place, with no copy
            // (the driver, finding none, copies nothing either).
            if parsed.hopByHopLeft { HopByHopHeaders.strip(&parsed.head.headers) }
            let headLength = parsed.headLength, bodyLength = parsed.bodyLength, keepAlive = parsed.keepAlive
            deliver((consume parsed).head, headLength: headLength, bodyLength: bodyLength,
                    keepAlive: keepAlive, from: &buffer)
        case .body:
            var buffer = Self.unwrapInboundIn(data)
            deliverBody(&buffer)
        }
    }

    /// Room for the head as it came and a small body joined behind it on the client's side
    /// (`HTTP1ResponseEncoder.maximumJoinedBodyBytes`), within what the loop's head buffers keep.
    private static func forwardedHeadCapacity(reading buffer: ByteBuffer) -> Int {
        min(buffer.readableBytes, 2048) + 64
    }

    /// A head read (the `headLength` bytes at the front of `buffer`), and what of its body
    /// this read holds. The head is handed over (`consume`), not copied: the response stages
    /// run within these calls, and a field one adds must change the only copy of the fields;
    /// a forwarded head's buffer is written to by the client's side, which a second reference
    /// would make a copy of.
    private func deliver<Head: ReceivedResponseHead>(_ head: consuming Head, headLength: Int, bodyLength: Int,
                                                     keepAlive: Bool, from buffer: inout ByteBuffer) {
        buffer.moveReaderIndex(forwardBy: headLength)
        if bodyLength <= buffer.readableBytes {
            // All of it in this read: told as one.
            let body = bodyLength > 0 ? buffer.readSlice(length: bodyLength) : nil
            state = .betweenMessages
            connection?.receivedWholeResponse(consume head, keepAlive: keepAlive, body: body,
                                              bytesBehind: buffer.readableBytes > 0)
            return
        }
        state = .body(remaining: bodyLength)
        connection?.receivedHead(consume head, keepAlive: keepAlive)
        deliverBody(&buffer)
    }

    /// The read's end goes straight to the connection handler, as the responses this path
    /// reads do: NIO's decoder in between does nothing on it (`ByteToMessageHandler` decodes
    /// on each read), and passing it through costs a pipeline hop per handler.
    func channelReadComplete(context: ChannelHandlerContext) {
        guard let connection else { return context.fireChannelReadComplete() }
        connection.readCompleted()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Cut mid-body: what NIO's decoder reports for a body shorter than its length.
        if case .body = state { connection?.receivedTruncatedBody() }
        context.fireChannelInactive()
    }

    private func handOverToDecoder(context: ChannelHandlerContext, data: NIOAny) {
        state = .decoder
        if let expected {
            decoder.expectResponse(to: expected)
            self.expected = nil
        }
        context.fireChannelRead(data)
    }

    private func deliverBody(_ buffer: inout ByteBuffer) {
        guard case .body(let remaining) = state else { return }
        let length = min(remaining, buffer.readableBytes)
        if length > 0, let slice = buffer.readSlice(length: length) {
            connection?.receivedBody(slice)
        }
        guard remaining == length else {
            state = .body(remaining: remaining - length)
            return
        }
        state = .betweenMessages
        connection?.receivedEnd(bytesBehind: buffer.readableBytes > 0)
    }
}

@available(*, unavailable)
extension UpstreamResponseFastPath: Sendable {}
