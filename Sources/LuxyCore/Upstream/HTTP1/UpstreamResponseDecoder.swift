import NIOCore
import NIOHTTP1

/// NIO's response decoder (llhttp), told of each request by its connection handler instead of
/// watching writes. A decoder that watches writes sits on the outbound path, so every request
/// part would pass through it wrapped and cast; this one is inbound only.
///
/// The decoder must know each request's method: the answer to a HEAD has no body whatever
/// its `content-length` says.
final class UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart

    private let decoder: HTTPResponseDecoder

    init(leftOverBytesStrategy: RemoveAfterUpgradeStrategy) {
        decoder = HTTPResponseDecoder(leftOverBytesStrategy: leftOverBytesStrategy)
    }

    /// A request went out on this connection: its answer is the next response.
    func expectResponse(to head: HTTPRequestHead) {
        decoder.write(data: .head(head))
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}

@available(*, unavailable)
extension UpstreamResponseDecoder: Sendable {}
