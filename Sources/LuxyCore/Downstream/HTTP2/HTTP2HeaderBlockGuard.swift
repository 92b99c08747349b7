import NIOCore

/// Bounds an unfinished header block on a downstream HTTP/2 connection. A client that sends
/// HEADERS without END_HEADERS and then nothing (or a header frame whose payload never
/// completes) leaves NIO's HTTP/2 handler waiting for the rest: there is no stream yet, so
/// neither the connection's idle handling nor any stream bound sees it. This handler sits in
/// front of NIO's, reads only the 9-byte frame headers as the bytes pass (payloads are
/// skipped, never copied), and when a header block stays open for the request header
/// timeout it sends GOAWAY (`ENHANCE_YOUR_CALM`) and closes the connection, counted as
/// `downstream_http2_header_block_timeout`.
///
/// A header block that arrives within one read arms nothing; only one left open at the end
/// of a read schedules the check, once, on this connection.
///
/// Loop-confined: it runs on the connection's event loop.
final class HTTP2HeaderBlockGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Where the byte stream is, as far as frames go.
    enum Position {
        /// The client's connection preface, this many bytes of it still to pass.
        case preface(remaining: Int)
        /// A frame header, of which `bytes` arrived so far (fewer than 9).
        case frameHeader(bytes: [UInt8])
        /// A frame's payload, this many bytes of it still to pass.
        case payload(remaining: Int, endsHeaderBlock: Bool)
    }

    /// Whether a header block (HEADERS or PUSH_PROMISE, then CONTINUATIONs) is open.
    enum HeaderBlock {
        case closed
        case open(since: NIODeadline)
    }

    static let frameHeaderLength = 9
    private static let headersType: UInt8 = 0x1
    private static let pushPromiseType: UInt8 = 0x5
    private static let continuationType: UInt8 = 0x9
    private static let endHeadersFlag: UInt8 = 0x4

    private let timeout: TimeAmount
    private let stats: ProxyStats
    private var position = Position.preface(remaining: 24)
    private var headerBlock = HeaderBlock.closed
    /// The highest stream a complete header block opened: GOAWAY's last stream.
    private var lastCompleteStream: UInt32 = 0
    private var openStream: UInt32 = 0
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount, stats: ProxyStats) {
        self.timeout = timeout
        self.stats = stats
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Self.unwrapInboundIn(data)
        track(bytes, now: context.eventLoop.now)
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .open(let since) = headerBlock, timer == nil { arm(at: since + timeout, context: context) }
        context.fireChannelReadComplete()
    }

    /// Walks the frame boundaries in `bytes`; bounded by the buffer's length.
    func track(_ bytes: ByteBuffer, now: NIODeadline) {
        var index = bytes.readerIndex
        let end = bytes.writerIndex
        while index < end {
            switch position {
            case .preface(let remaining):
                let taken = min(remaining, end - index)
                index += taken
                position = remaining - taken == 0 ? .frameHeader(bytes: []) : .preface(remaining: remaining - taken)
            case .payload(let remaining, let endsHeaderBlock):
                let taken = min(remaining, end - index)
                index += taken
                if remaining - taken > 0 {
                    position = .payload(remaining: remaining - taken, endsHeaderBlock: endsHeaderBlock)
                } else {
                    if endsHeaderBlock { closeHeaderBlock() }
                    position = .frameHeader(bytes: [])
                }
            case .frameHeader(let partial) where partial.isEmpty && end - index >= Self.frameHeaderLength:
                // The usual case: the whole frame header is in this read, read in place.
                frameBegins(FrameHeader(bytes, at: index), now: now)
                index += Self.frameHeaderLength
            case .frameHeader(var partial):
                // Split across reads: the few bytes are kept until the rest comes.
                let taken = min(Self.frameHeaderLength - partial.count, end - index)
                partial += bytes.getBytes(at: index, length: taken) ?? []
                index += taken
                guard partial.count == Self.frameHeaderLength else {
                    position = .frameHeader(bytes: partial)
                    continue
                }
                frameBegins(FrameHeader(ByteBuffer(bytes: partial), at: 0), now: now)
            }
        }
    }

    /// The fields of a frame header this handler looks at (RFC 9113 §4.1).
    struct FrameHeader {
        var length: Int
        var type: UInt8
        var flags: UInt8
        var stream: UInt32

        /// `buffer` holds at least 9 bytes from `index`.
        init(_ buffer: ByteBuffer, at index: Int) {
            let lengthHigh = Int(buffer.getInteger(at: index, as: UInt8.self) ?? 0)
            let lengthLow = Int(buffer.getInteger(at: index + 1, as: UInt16.self) ?? 0)
            length = lengthHigh << 16 | lengthLow
            type = buffer.getInteger(at: index + 3, as: UInt8.self) ?? 0
            flags = buffer.getInteger(at: index + 4, as: UInt8.self) ?? 0
            stream = (buffer.getInteger(at: index + 5, as: UInt32.self) ?? 0) & 0x7fff_ffff
        }
    }

    private func frameBegins(_ header: FrameHeader, now: NIODeadline) {
        var endsHeaderBlock = false
        switch header.type {
        case Self.headersType, Self.pushPromiseType:
            if case .closed = headerBlock { headerBlock = .open(since: now) }
            openStream = header.stream
            endsHeaderBlock = header.flags & Self.endHeadersFlag != 0
        case Self.continuationType:
            endsHeaderBlock = header.flags & Self.endHeadersFlag != 0
        default:
            break
        }
        if header.length == 0 {
            if endsHeaderBlock { closeHeaderBlock() }
            position = .frameHeader(bytes: [])
        } else {
            position = .payload(remaining: header.length, endsHeaderBlock: endsHeaderBlock)
        }
    }

    private func closeHeaderBlock() {
        headerBlock = .closed
        lastCompleteStream = max(lastCompleteStream, openStream)
    }

    private func arm(at due: NIODeadline, context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: due) { [weak self] in
            self?.check(context: context)
        }
    }

    private func check(context: ChannelHandlerContext) {
        timer = nil
        guard case .open(let since) = headerBlock else { return }
        let due = since + timeout
        guard due <= context.eventLoop.now else { return arm(at: due, context: context) }
        stats.increment("downstream_http2_header_block_timeout")
        // Straight to the socket, between whole frames NIO wrote: both run on this loop.
        context.writeAndFlush(NIOAny(Self.goAway(lastStream: lastCompleteStream)), promise: nil)
        context.close(promise: nil)
    }

    /// A GOAWAY frame: ENHANCE_YOUR_CALM (0xb), the client held a header block open too long.
    static func goAway(lastStream: UInt32) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeBytes([0, 0, 8, 0x7, 0, 0, 0, 0, 0])
        frame.writeInteger(lastStream & 0x7fff_ffff)
        frame.writeInteger(UInt32(0xb))
        return frame
    }
}

@available(*, unavailable)
extension HTTP2HeaderBlockGuard: Sendable {}
