import NIOCore

/// Reads the status line of a health check's answer (`HTTP/1.1 200 OK`) and nothing more:
/// the status is the verdict, the rest of the answer is not needed. Loop-confined, as
/// every channel handler.
final class HealthCheckStatusReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// A status line longer than this is not an HTTP answer.
    static let maxStatusLineBytes = 1024

    private var received = ByteBuffer()
    private var verdict: ((Int?) -> Void)?

    init(verdict: @escaping (Int?) -> Void) {
        self.verdict = verdict
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        received.writeBuffer(&part)
        let bytes = received.readableBytesView
        if let end = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
            report(Self.status(inStatusLine: line))
        } else if received.readableBytes > Self.maxStatusLineBytes {
            report(nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        report(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        report(nil)
        context.close(promise: nil)
    }

    private func report(_ status: Int?) {
        guard let verdict else { return }
        self.verdict = nil
        verdict(status)
    }

    /// `HTTP/1.x NNN reason` → NNN.
    static func status(inStatusLine line: String) -> Int? {
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3 else { return nil }
        return Int(parts[1])
    }
}

@available(*, unavailable)
extension HealthCheckStatusReader: Sendable {}
